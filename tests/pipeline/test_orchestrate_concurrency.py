"""PostgreSQL only: four orchestrator processes over 500 pending signals decide each exactly once.

Correctness here rests on the claim (FOR UPDATE SKIP LOCKED + the guarded lease UPDATE) and on the
unique constraints, so it is proven with real separate processes on the real database.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from signals_app.models import DecisionRecommendation, Experiment, Signal
from tests.pipeline.builders import NOW, make_signal, seed_bias

ROOT = Path(__file__).resolve().parents[2]
WORKER = """
import json, django
django.setup()
from collections import Counter
from optionsengine.lib import clock
from optionsengine.pipeline.orchestrate import sweep
total = Counter()
while True:
    result = sweep(now=clock.now(), limit=10)
    total.update(result.counts)
    if result.errors:
        total["errors"] += len(result.errors)
    if result.counts["claimed"] == 0:
        break
print(json.dumps(total))
"""


def _database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_four_processes_decide_each_of_500_signals_exactly_once():
    symbols = ("SPY", "QQQ", "IWM", "AAPL")
    for symbol in symbols:
        seed_bias(symbol, "BULLISH")
    for i in range(500):
        make_signal(symbol=symbols[i % 4], direction=("long", "short")[i % 3 == 0], timeframe=("5m", "15m", "1h")[i % 3])
    env = {
        **os.environ, "DJANGO_SETTINGS_MODULE": "optionsengine.settings", "DATABASE_URL": _database_url(),
        "SECRET_KEY": "concurrency-test", "ALLOWED_HOSTS": "localhost", "OPTIONSENGINE_NOW": NOW.isoformat(),
        "INSTANCE_ID": "concurrency-test", "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT),
    }
    workers = [subprocess.Popen([sys.executable, "-c", WORKER], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True) for _ in range(4)]
    totals = []
    for worker in workers:
        out, err = worker.communicate(timeout=300)
        assert worker.returncode == 0, err[-2000:]
        totals.append(json.loads(out.strip().splitlines()[-1]))
    assert sum(t.get("claimed", 0) for t in totals) == 500  # no signal claimed twice
    assert sum(t.get("errors", 0) for t in totals) == 0
    assert sum(1 for t in totals if t.get("claimed", 0) > 0) >= 2  # the work really was shared
    assert Signal.objects.filter(processing_lock=True).count() == 0
    assert Experiment.objects.count() == 500
    assert DecisionRecommendation.objects.count() == 1000
    assert Signal.objects.exclude(experiment_id=None).count() == 500
