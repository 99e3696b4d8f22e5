"""Settings for the worker processes the outbox drills start (tests/core/test_outbox_drills.py).

The test settings, with real SMTP to the drill's mail server instead of Django's locmem
outbox, the database connection named so the drills can see its transactions, and leases of
seconds (DRILL_LEASE_SECONDS, DRILL_CLAIM_SECONDS) so the row and the e-mail of a killed
worker come back while the test waits.
"""

import os

from eren.settings.test import *  # noqa: F403
from eren.settings.test import DATABASES

DATABASES["default"].setdefault("OPTIONS", {})["application_name"] = "eren-drill-worker"
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = "127.0.0.1"
EMAIL_PORT = int(os.environ["DRILL_SMTP_PORT"])
EMAIL_HOST_USER = EMAIL_HOST_PASSWORD = ""
EMAIL_USE_TLS = EMAIL_USE_SSL = False
EMAIL_TIMEOUT = 5
OUTBOX_LEASE_SECONDS = int(os.environ.get("DRILL_LEASE_SECONDS", "600"))
EMAIL_CLAIM_SECONDS = int(os.environ.get("DRILL_CLAIM_SECONDS", "60"))
