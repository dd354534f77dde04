"""Bulk UPDATE of many rows with different values in one statement per batch.

Django's `bulk_update` builds a `CASE WHEN pk = … THEN …` expression per field and row; for a
thousand positions × six fields that is ~2 s of query compilation. Here the statement is
`UPDATE … SET col = v.col … FROM (VALUES (pk, …), …) AS v WHERE table.pk = v.pk` (PostgreSQL, and
SQLite ≥ 3.33), and values are prepared by the model fields themselves, so they are stored exactly
as the ORM would store them. On PostgreSQL every value is cast to its column type (a VALUES
column whose rows are all NULL would otherwise be typed text).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.db.models import JSONField, Model

from optionsengine.lib.rawsql import json_param

BATCH_SIZE = 500


def _prep(field, value):
    if isinstance(field, JSONField):
        return json_param(value)
    return field.get_db_prep_save(value, connection)


def bulk_update_rows(rows: Sequence[Model], field_names: Sequence[str], *, batch_size: int = BATCH_SIZE) -> int:
    """Write `field_names` of every row (all of one model) by primary key; returns rows sent."""
    if not rows:
        return 0
    meta = rows[0]._meta
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    fields = [meta.pk] + [meta.get_field(name) for name in field_names]
    postgres = connection.vendor == "postgresql"
    if postgres:
        placeholder = "(" + ", ".join(f"CAST(%s AS {f.db_type(connection)})" for f in fields) + ")"
        alias = "v(" + ", ".join(quote(f.column) for f in fields) + ")"
        refs = [f"v.{quote(f.column)}" for f in fields]
    else:
        placeholder = "(" + ", ".join(["%s"] * len(fields)) + ")"
        alias = "v"
        refs = [f"v.column{i + 1}" for i in range(len(fields))]
    assignments = ", ".join(f"{quote(f.column)} = {ref}" for f, ref in zip(fields[1:], refs[1:], strict=True))
    where = f"{table}.{quote(meta.pk.column)} = {refs[0]}"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch_size):
            batch = rows[start:start + batch_size]
            values = ", ".join([placeholder] * len(batch))
            params = [_prep(f, getattr(row, f.attname)) for row in batch for f in fields]
            cursor.execute(f"UPDATE {table} SET {assignments} FROM (VALUES {values}) AS {alias} WHERE {where}", params)
    return len(rows)
