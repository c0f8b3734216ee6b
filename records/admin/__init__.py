"""Staff pages: executions (list, detail, actions), the dashboard, monitors and their pages.

Django's autodiscovery imports ``records.admin``; importing the modules registers their admins.
"""

from django.contrib import admin

from records.admin import alerts, executions, monitors  # noqa: F401

# The index lists the dashboards above the models, so they are found without knowing the URLs.
admin.site.index_template = "admin/records/index.html"
