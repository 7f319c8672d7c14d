"""Recovery codes (pure): ten one-time codes, shown once, typed when the phone is lost."""

import secrets

COUNT = 10
# No 0/O, 1/l/I: codes are read from paper and typed.
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
LENGTH = 10  # 31**10, about 2**49.5 per code; guessing is throttled on top


def generate(count=COUNT):
    return [_one() for _ in range(count)]


def _one():
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def display(code):
    """How a code is shown: two groups of five."""
    return f"{code[:5]}-{code[5:]}"


def normalize(typed):
    """What a person typed, as stored: lower case, without spaces or dashes; None if it cannot be
    a code (so that a TOTP code is never looked up as a recovery code)."""
    code = "".join(typed.split()).replace("-", "").lower()
    if len(code) != LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code
