"""gunicorn settings for `make run` and scaled deployments (override with GUNICORN_* env vars)."""

import os

bind = os.environ.get("GUNICORN_BIND", f"0.0.0.0:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "sync"
timeout = 30
# %(U)s is the path without the query string, so `?token=<secret>` never reaches the access log.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None  # empty: no access log
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'
