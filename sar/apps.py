from django.apps import AppConfig


class SarConfig(AppConfig):
    name = "sar"
    verbose_name = "Rights requests"

    def ready(self):
        from sar.services import bundles, portal, requests  # noqa: F401  (dashboard panels)
