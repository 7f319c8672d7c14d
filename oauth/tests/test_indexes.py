import importlib

import pytest
from django.db import connection

pytestmark = [pytest.mark.postgres("the varchar_pattern_ops indexes exist only there"), pytest.mark.django_db]

migration = importlib.import_module("oauth.migrations.0004_drop_pattern_indexes")


def _indexes(table):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
        return dict(cursor.fetchall())


def test_the_token_tables_carry_no_pattern_index():
    """Every token request writes these tables; their `_like` copies served no query."""
    with connection.cursor() as cursor:
        assert migration._pattern_indexes(cursor) == []
    for table in migration.PATTERN_INDEXED:
        assert not [name for name, definition in _indexes(table).items() if "pattern_ops" in definition], table


def test_exact_lookups_keep_their_indexes():
    access = " ".join(_indexes("oauth_accesstoken").values())
    assert "UNIQUE INDEX" in access and "(token_checksum)" in access
    assert "(jti)" in access and "(sid)" in access
    grant = " ".join(_indexes("oauth_grant").values())
    assert "(code)" in grant and "(sid)" in grant
