"""The standard claims a user profile holds (OpenID Connect Core 5.1): their validation and
their values as claims. Pure (no I/O); the User model stores them, oauth releases them by scope.
"""

import re
import zoneinfo
from datetime import date

from django.core.exceptions import ValidationError

# Core 5.1: "E.164 is RECOMMENDED as the format of this Claim".
E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
# BCP 47 language tags as Core 5.1 asks for `locale` (language, optional script and region).
BCP47 = re.compile(r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$")

PROFILE_FIELDS = (
    "first_name",
    "middle_name",
    "last_name",
    "nickname",
    "picture",
    "website",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
)
ADDRESS_FIELDS = ("street_address", "locality", "region", "postal_code", "country")
# Every profile field a person may change on the account page (and an operator in the admin);
# the verified flags are not among them.
EDITABLE_FIELDS = (*PROFILE_FIELDS, "email", "phone_number", *(f"address_{f}" for f in ADDRESS_FIELDS))


def validate_phone_number(value):
    if value and not E164.match(value):
        raise ValidationError("Enter the number in international form, e.g. +14155550100.", code="claim")


def validate_locale(value):
    if value and not BCP47.match(value):
        raise ValidationError("Enter a language tag such as en, fr-CA or pt-BR.", code="claim")


def validate_zoneinfo(value):
    if value and value not in zoneinfo.available_timezones():
        raise ValidationError("Enter a time zone of the tz database, such as Europe/Paris.", code="claim")


def validate_https(value):
    if value and not value.startswith("https://"):
        raise ValidationError("Enter an https:// address.", code="claim")


def validate_birthdate(value):
    if value and (value > date.today() or value.year < 1800):
        raise ValidationError("Enter a real date of birth.", code="claim")


def user_claims(user):
    """Every standard claim the user has a value for (Core 5.1), by claim name; claims
    without a value are left out rather than sent empty (Core 5.3.2)."""
    values = {
        "name": user.get_full_name(),
        "given_name": user.first_name,
        "middle_name": user.middle_name,
        "family_name": user.last_name,
        "nickname": user.nickname,
        "preferred_username": user.username,
        "picture": user.picture,
        "website": user.website,
        "gender": user.gender,
        "birthdate": user.birthdate.isoformat() if user.birthdate else "",
        "zoneinfo": user.zoneinfo,
        "locale": user.locale,
        "email": user.email,
        "phone_number": user.phone_number,
    }
    claims = {name: value for name, value in values.items() if value}
    if user.email:
        # True once the user followed the link mailed to this address; a change clears it.
        claims["email_verified"] = user.email_verified
    if user.phone_number:
        claims["phone_number_verified"] = user.phone_number_verified
    address = {f: getattr(user, f"address_{f}") for f in ADDRESS_FIELDS}
    address = {f: v for f, v in address.items() if v}
    if address:
        lines = [
            address.get("street_address", ""),
            " ".join(filter(None, [address.get("postal_code"), address.get("locality")])),
            address.get("region", ""),
            address.get("country", ""),
        ]
        address["formatted"] = "\n".join(line for line in lines if line)
        claims["address"] = address
    if user.profile_updated_at:
        claims["updated_at"] = int(user.profile_updated_at.timestamp())
    return claims
