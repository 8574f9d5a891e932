"""Trigram indexes for the people search's "contains" matching of names and addresses.

PostgreSQL only: `icontains` compiles to UPPER(column::text) LIKE UPPER('%word%'), which a GIN
trigram index on the same expression answers without reading every row. SQLite, the first-run
default, has no such index type and searches a small register quickly enough without one.
"""

from django.db import migrations

INDEXES = [
    ("records_person", "first_name", "person_first_name_trgm"),
    ("records_person", "last_name", "person_last_name_trgm"),
    ("records_person", "preferred_name", "person_preferred_name_trgm"),
    ("records_property", "address_line_1", "property_address_1_trgm"),
    ("records_property", "address_line_2", "property_address_2_trgm"),
    ("records_property", "postcode", "property_postcode_trgm"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table, column, name in INDEXES:
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS %s ON %s USING gin (UPPER(%s::text) gin_trgm_ops)"
            % (name, table, column)
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for _table, _column, name in INDEXES:
        schema_editor.execute("DROP INDEX IF EXISTS %s" % name)


class Migration(migrations.Migration):
    dependencies = [("records", "0005_tenancy_list_order_index")]

    operations = [migrations.RunPython(create, drop)]
