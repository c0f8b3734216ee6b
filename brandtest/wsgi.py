"""WSGI entry point (production: granian --interface wsgi brandtest.wsgi:application)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "brandtest.settings")

application = get_wsgi_application()
