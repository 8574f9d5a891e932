"""The audit hash chain, its backfill over existing entries, and (PostgreSQL) append-only triggers."""

from django.db import migrations, models

# Refuses UPDATE and DELETE always, and TRUNCATE unless the session has opted in with
# `SET tmo.allow_audit_truncate = 'on'` (the test settings do, because pytest-django resets
# tables between transactional tests with TRUNCATE). Nothing in the application sets it.
REFUSE_FUNCTION = """
CREATE OR REPLACE FUNCTION tmo_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE'
       AND coalesce(current_setting('tmo.allow_audit_truncate', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'the audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$;
"""

PROTECTED_TABLES = ("auditlog_logentry", "tmo_auditchainlink")


def install_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(REFUSE_FUNCTION, params=None)
    for table in PROTECTED_TABLES:
        schema_editor.execute(
            "CREATE TRIGGER %(t)s_append_only BEFORE UPDATE OR DELETE ON %(t)s "
            "FOR EACH ROW EXECUTE FUNCTION tmo_audit_append_only();" % {"t": table}
        )
        schema_editor.execute(
            "CREATE TRIGGER %(t)s_no_truncate BEFORE TRUNCATE ON %(t)s "
            "FOR EACH STATEMENT EXECUTE FUNCTION tmo_audit_append_only();" % {"t": table}
        )


def remove_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in PROTECTED_TABLES:
        schema_editor.execute("DROP TRIGGER IF EXISTS %s_append_only ON %s;" % (table, table))
        schema_editor.execute("DROP TRIGGER IF EXISTS %s_no_truncate ON %s;" % (table, table))
    schema_editor.execute("DROP FUNCTION IF EXISTS tmo_audit_append_only();")


def backfill(apps, schema_editor):
    """Chain the entries written before the chain existed, in id order."""
    from tmo import auditchain

    using = schema_editor.connection.alias
    log_entry = apps.get_model("auditlog", "LogEntry")
    link_model = apps.get_model("tmo", "AuditChainLink")
    head_model = apps.get_model("tmo", "AuditChainHead")
    labels = auditchain.ContentTypeLabels(apps.get_model("contenttypes", "ContentType"))
    entries = log_entry.objects.using(using).order_by("id")
    last_id = 0
    while True:
        batch = list(entries.filter(id__gt=last_id)[:500])
        if not batch:
            break
        for entry in batch:
            auditchain.append(
                entry, link_model=link_model, head_model=head_model, labels=labels, using=using
            )
        last_id = batch[-1].id
    # The head row exists from the start, so that the first two appends cannot both create it.
    if not head_model.objects.using(using).exists():
        head_model.objects.using(using).create(
            pk=auditchain.HEAD_PK, position=0, hash=auditchain.GENESIS_HASH
        )


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("auditlog", "0017_add_actor_email"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.CreateModel(
            name="AuditChainHead",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("position", models.PositiveBigIntegerField(default=0)),
                ("hash", models.CharField(max_length=64)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={"verbose_name": "audit chain head"},
        ),
        migrations.CreateModel(
            name="AuditChainLink",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("entry_id", models.BigIntegerField(unique=True)),
                ("position", models.PositiveBigIntegerField(unique=True)),
                ("prev_hash", models.CharField(max_length=64)),
                ("hash", models.CharField(max_length=64)),
                ("key_id", models.CharField(max_length=32)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={"verbose_name": "audit chain link", "ordering": ["position"]},
        ),
        migrations.CreateModel(
            name="AuditVerification",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("checked_at", models.DateTimeField(auto_now_add=True)),
                ("ok", models.BooleanField()),
                ("entries", models.PositiveBigIntegerField(default=0)),
                ("head_position", models.PositiveBigIntegerField(default=0)),
                ("head_hash", models.CharField(blank=True, max_length=64)),
                ("message", models.TextField(blank=True)),
                ("checkpoint_file", models.CharField(blank=True, max_length=500)),
            ],
            options={
                "verbose_name": "audit chain verification",
                "ordering": ["-checked_at", "-pk"],
                "get_latest_by": "checked_at",
            },
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.RunPython(install_triggers, remove_triggers),
    ]
