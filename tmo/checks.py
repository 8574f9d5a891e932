from django.core.checks import Error, register

from tmo import datamap


@register()
def every_model_is_mapped(app_configs, **kwargs):
    return [
        Error(
            "%s has no entry in the personal-data map." % label,
            hint="Declare personal_data = PersonalData(...) on the model, "
            "with Category.NON_PERSONAL if it holds nothing about people.",
            id="tmo.E001",
        )
        for label in datamap.unmapped_models()
    ]


@register()
def encryption_keys_configured(app_configs, **kwargs):
    """Without usable keys nothing encrypted can be read or written: say so before serving."""
    from django.core.exceptions import ImproperlyConfigured

    from tmo import crypto

    try:
        crypto.check_keys()
    except ImproperlyConfigured as error:
        return [
            Error(
                str(error),
                hint="Set FIELD_ENCRYPTION_KEYS to the Fernet keys the data was encrypted with, "
                "newest first, and BLIND_INDEX_KEY.",
                id="tmo.E002",
            )
        ]
    return []


# Rows read from each end of every table with encrypted columns: the oldest are the ones a key
# removed too early (before `rotate_keys` finished) leaves unreadable.
KEY_SAMPLE_ROWS = 3


@register()
def stored_values_decrypt(app_configs, **kwargs):
    """A sample of the stored rows must open with the configured keys: a key removed while data
    still needs it is found at `manage.py check`, not by a user opening a record."""
    from django.core.exceptions import ImproperlyConfigured
    from django.db import DatabaseError

    from tmo import crypto
    from tmo.fields import encrypted_models

    try:
        crypto.check_keys()
    except ImproperlyConfigured:
        return []  # tmo.E002 says why
    unreadable = []
    for model, columns in encrypted_models():
        names = [field.attname for field in columns]
        rows = model._base_manager.values_list(*names)
        try:
            list(rows.order_by("pk")[:KEY_SAMPLE_ROWS])
            list(rows.order_by("-pk")[:KEY_SAMPLE_ROWS])
        except crypto.DecryptionError:
            unreadable.append(model._meta.label)
        except DatabaseError:
            # No database yet, or none reachable (`check --deploy` on a build machine): the
            # keys cannot be tried against data that cannot be read.
            return []
    return [
        Error(
            "Stored values in %s cannot be decrypted with the configured FIELD_ENCRYPTION_KEYS."
            % label,
            hint="A key the data was encrypted with has been removed. Put it back in "
            "FIELD_ENCRYPTION_KEYS (after the current key) and run `manage.py rotate_keys` "
            "before removing it again.",
            id="tmo.E003",
        )
        for label in unreadable
    ]
