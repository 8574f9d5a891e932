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
