from django.apps import AppConfig


class SarConfig(AppConfig):
    name = "sar"
