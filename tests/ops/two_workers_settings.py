"""Settings for the worker processes of tests/ops/test_two_workers.py: the real settings, with the
django-q2 queue renamed (TWO_WORKERS_QUEUE) so the test's qclusters never share a Redis list with
any other cluster on the same Redis, and every task result kept (the test counts them)."""

import os

from optionsengine.settings import *  # noqa: F403

Q_CLUSTER = {**Q_CLUSTER, "cluster_name": os.environ["TWO_WORKERS_QUEUE"], "save_limit": 0}  # noqa: F405
