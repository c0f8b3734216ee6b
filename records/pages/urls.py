"""Routes of the owner-facing pages (included at the site root by brandtest/urls.py)."""

from django.urls import path

from records.pages.views import monitor_report_view

urlpatterns = [
    path("reports/monitors/<int:monitor_id>/", monitor_report_view, name="monitor-report"),
]
