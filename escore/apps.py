from django.apps import AppConfig


class EscoreConfig(AppConfig):
    name = "escore"
    verbose_name = "E-score"
