"""WSGI entry point (production: granian --interface wsgi brandtest.wsgi:application; README).

The status poll (most of the traffic) and the stored results skip Django's middleware chain
(``FastPath``, brandtest/fastpath.py): the chain costs about as much as the poll itself
(docs/benchmarks.md). Every other request goes through Django's handler unchanged.
"""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "brandtest.settings")

django_application = get_wsgi_application()

from brandtest.fastpath import FastPath  # noqa: E402  (needs the app registry ready)

application = FastPath(django_application)

# Everything loaded so far lives as long as the process: keep it out of the collector's full
# passes, which otherwise stall a worker for 40-60 ms every few thousand requests.
gc.freeze()
