from django.apps import AppConfig


class DisclosuresConfig(AppConfig):
    name = "disclosures"

    def ready(self):
        from disclosures import services  # noqa: F401  (registers the dashboard panels)
