"""One checksum for stored tokens: ours must be what DOT's TokenChecksumField stores."""

from datetime import timedelta

import pytest
from django.utils import timezone

from oauth.models import AccessToken, token_checksum
from oauth.validators import Validator


@pytest.mark.django_db
@pytest.mark.parametrize("raw", ["opaque-refresh-token", "eyJ.a.b", "ünïcode"])
def test_our_checksum_is_the_one_dot_stores(confidential, raw):
    row = AccessToken(application=confidential[0], expires=timezone.now() + timedelta(minutes=5), scope="profile")
    Validator()._set_token_value(row, raw)
    row.save()
    row.refresh_from_db()
    assert row.token_checksum == token_checksum(raw)
    assert AccessToken.objects.filter(token_checksum=token_checksum(raw)).get() == row
