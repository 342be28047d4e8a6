from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wfm_site.settings")
application = get_wsgi_application()

# gunicorn runs no system checks of its own: refuse to serve with a wrong setting, as
# runserver and the Celery processes do.
from wfm_site.checks import refuse_to_start_on_errors  # noqa: E402

refuse_to_start_on_errors("the web process")
