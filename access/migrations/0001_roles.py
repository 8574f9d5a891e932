from django.db import migrations

ROLES = [
    "housing_officer",
    "repairs_officer",
    "finance_officer",
    "hr_officer",
    "contracts_officer",
    "senior_officer",
    "data_protection_lead",
    "committee_member",
    "tenant",
    "system_administrator",
]


def create_role_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_role_groups, migrations.RunPython.noop)]
