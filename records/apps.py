"""The brand-test records app."""

from django.apps import AppConfig


class RecordsConfig(AppConfig):
    name = "records"
    verbose_name = "Brand tests"
    default_auto_field = "django.db.models.BigAutoField"
