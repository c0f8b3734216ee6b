"""Staff pages: executions (list, detail, actions), the dashboard, monitors.

Django's autodiscovery imports ``records.admin``; importing the modules registers their admins.
"""

from records.admin import executions  # noqa: F401
