from django.apps import AppConfig


class TmoConfig(AppConfig):
    name = "tmo"
    verbose_name = "TMO records kernel"

    def ready(self):
        from tmo import checks  # noqa: F401
        from tmo.audit import register_mapped_models

        register_mapped_models()
