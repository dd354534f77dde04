"""gunicorn settings, kept for comparison (bench/webhook.py) and for WSGI-only hosts.

The default server is granian (bin/serve, optionsengine/edge.py): it measured faster, and unlike
gunicorn's workers it cannot be stalled by slow uploads (docs/PERFORMANCE.md). Binds 127.0.0.1
unless GUNICORN_BIND says otherwise.
"""

import os

bind = os.environ.get("GUNICORN_BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
# gthread keeps client connections alive between requests (what a TLS-terminating reverse proxy
# in front of us does with upstream keep-alive); one thread per worker because the work is CPU
# bound under the GIL. `sync` closes every connection after one request.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
timeout = 30
# %(U)s is the path without the query string, so `?token=<secret>` never reaches the access log.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None  # empty: no access log
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'
