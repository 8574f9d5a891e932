from django.db import migrations


def publish_initial_code(apps, schema_editor):
    """Version 1 of the confidentiality code, so that signing it is the first thing staff do."""
    from access.services.compliance import publish_initial_code

    publish_initial_code(apps.get_model("access", "ConfidentialityCode"))


class Migration(migrations.Migration):
    dependencies = [("access", "0001_initial")]

    operations = [migrations.RunPython(publish_initial_code, migrations.RunPython.noop)]
