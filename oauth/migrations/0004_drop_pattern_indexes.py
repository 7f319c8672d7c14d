"""Drop the `varchar_pattern_ops` copies of the token tables' indexes (PostgreSQL only).

On PostgreSQL, Django gives every indexed or unique CharField a second index, `<name>_like`,
for `LIKE 'prefix%'` lookups. Nothing queries these columns that way (tokens and codes are
found by exact checksum, `jti`, `code` or `sid`; the admin's search is `icontains`, which no
btree serves), yet every token issued, rotated or revoked writes to them: three of the access
token table's twelve indexes, 141 MB of index per million access tokens (bench/README.md,
"Scale"). Dropping an index is quick (a short exclusive lock); Django's own index changes on
these fields later use `DROP INDEX IF EXISTS`, so the missing `_like` index never trips them.
"""

from django.db import migrations

# The tables written on every token request, and the columns whose pattern index goes.
PATTERN_INDEXED = {
    "oauth_accesstoken": ("token_checksum", "jti", "sid"),
    "oauth_refreshtoken": ("sid",),
    "oauth_grant": ("code", "sid"),
}


def _pattern_indexes(cursor):
    cursor.execute(
        "SELECT i.relname, t.relname, a.attname"
        " FROM pg_index x"
        " JOIN pg_class i ON i.oid = x.indexrelid"
        " JOIN pg_class t ON t.oid = x.indrelid"
        " JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[0]"
        " JOIN pg_opclass o ON o.oid = x.indclass[0]"
        " WHERE t.relname = ANY(%s) AND x.indnatts = 1 AND o.opcname IN ('varchar_pattern_ops', 'text_pattern_ops')"
        " AND t.relnamespace = current_schema()::regnamespace",
        [list(PATTERN_INDEXED)],
    )
    return [(index, table, column) for index, table, column in cursor.fetchall() if column in PATTERN_INDEXED[table]]


def drop_pattern_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # only PostgreSQL has them
    with schema_editor.connection.cursor() as cursor:
        for index, _table, _column in _pattern_indexes(cursor):
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(index)}")


def restore_pattern_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, columns in PATTERN_INDEXED.items():
        for column in columns:
            name = schema_editor.quote_name(f"{table}_{column}_pattern_like")
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON {schema_editor.quote_name(table)}"
                f" ({schema_editor.quote_name(column)} varchar_pattern_ops)"
            )


class Migration(migrations.Migration):
    dependencies = [("oauth", "0003_token_sid")]

    operations = [migrations.RunPython(drop_pattern_indexes, restore_pattern_indexes, elidable=False)]
