"""`ingest_bias_payload`: storage, idempotency, ordering and cache independence (real database)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction

from bias_app import cache as bias_cache
from bias_app.models import BiasStateCurrent, BiasStateHistory
from bias_app.selectors import get_bias_state
from bias_app.services import apply_event
from bias_app.services.config import update_bias_config
from bias_app.services.ingest import ingest_bias_payload
from optionsengine.lib import clock
from tests.bias_app.builders import BASE_TS_MS, NOW, ingest, v1_payload, v3_payload

pytestmark = pytest.mark.django_db


def statuses(symbol: str = "SPY") -> list[tuple[int, str]]:
    return list(BiasStateHistory.objects.filter(symbol=symbol).order_by("event_ts_ms").values_list("event_ts_ms", "status"))


def current(symbol: str = "SPY") -> BiasStateCurrent:
    return BiasStateCurrent.objects.get(symbol=symbol)


def test_a_valid_v3_payload_becomes_the_current_state_and_a_history_row(any_cache):
    payload = v3_payload()
    outcome = ingest(payload)
    assert outcome.http_status == 200
    assert outcome.body == {"success": True, "event_id": outcome.event_id, "symbol": "SPY", "status": "accepted"}
    assert (outcome.audit_status, outcome.symbol, outcome.error_message) == ("accepted", "SPY", None)
    row = current()
    assert (row.updated_at_ms, row.event_id_raw, row.source) == (BASE_TS_MS, payload["event_id_raw"], "MTF_BIAS_ENGINE_V3")
    assert row.state_json["bias"] == "BULLISH" and row.state_json["lastEventId"] == outcome.event_id
    history = BiasStateHistory.objects.get()
    assert (history.status, history.event_id, history.event_type) == ("accepted", outcome.event_id, "BIAS_SNAPSHOT")
    assert history.state_json == row.state_json


def test_a_resent_event_is_a_duplicate_and_changes_nothing(any_cache):
    payload = v3_payload()
    first = ingest(payload)
    again = ingest(v3_payload({"mtf.consensus.bias_score": -10}) | {"event_id_raw": payload["event_id_raw"]})
    assert again.http_status == 200
    assert again.body == {"success": True, "event_id": first.event_id, "symbol": "SPY", "status": "duplicate"}
    assert again.audit_status == "duplicate"
    assert BiasStateHistory.objects.count() == 1
    assert current().state_json["biasScore"] == 62


def test_an_older_event_is_recorded_out_of_order_and_leaves_the_newer_state(any_cache):
    ingest(v3_payload(ts_ms=BASE_TS_MS))
    outcome = ingest(v3_payload({"mtf.consensus.bias_consensus": "BEARISH"}, ts_ms=BASE_TS_MS - 60_000))
    assert (outcome.http_status, outcome.body["status"], outcome.audit_status) == (200, "out_of_order", "out_of_order")
    assert current().updated_at_ms == BASE_TS_MS
    assert current().state_json["bias"] == "BULLISH"
    assert statuses() == [(BASE_TS_MS - 60_000, "out_of_order"), (BASE_TS_MS, "accepted")]


def test_an_event_with_an_equal_timestamp_is_out_of_order(any_cache):
    ingest(v3_payload(ts_ms=BASE_TS_MS))
    same_time = v3_payload({"event_type": "ORB_UPDATE", "mtf.consensus.bias_score": 10}, ts_ms=BASE_TS_MS)
    assert ingest(same_time).body["status"] == "out_of_order"
    assert current().state_json["biasScore"] == 62


def test_a_resent_out_of_order_event_is_a_duplicate():
    ingest(v3_payload(ts_ms=BASE_TS_MS))
    late = v3_payload(ts_ms=BASE_TS_MS - 1)
    assert ingest(late).body["status"] == "out_of_order"
    assert ingest(late).body["status"] == "duplicate"
    assert BiasStateHistory.objects.count() == 2


def test_a_newer_event_replaces_the_state_with_transitions_and_acceleration():
    ingest(v3_payload(ts_ms=BASE_TS_MS))
    outcome = ingest(v3_payload(
        {"mtf.consensus.bias_consensus": "BEARISH", "mtf.consensus.bias_score": -40, "macro.state.macro_class": "MACRO_RANGE"},
        ts_ms=BASE_TS_MS + 30_000,
    ))
    state = current().state_json
    assert outcome.body["status"] == "accepted"
    assert state["updatedAtMs"] == BASE_TS_MS + 30_000
    assert state["transitions"]["biasFlip"] and state["transitions"]["macroFlip"]
    assert state["acceleration"]["stateStrengthDelta"] == -102
    assert state["acceleration"]["macroDriftScore"] == 0.15


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"mtf.consensus.bias_consensus": "SIDEWAYS"}, "mtf.consensus.bias_consensus"),
        ({"source": "MTF_BIAS_ENGINE_V2"}, "source"),
        ({"intent.confidence": 1.5}, "intent.confidence"),
    ],
)
def test_an_invalid_payload_is_a_422_with_field_details_and_writes_nothing(any_cache, changes, field):
    outcome = ingest(v3_payload(changes))
    assert outcome.http_status == 422
    assert outcome.body["error"] == "Invalid payload"
    assert [d["field"] for d in outcome.body["details"]] == [field]
    assert outcome.audit_status == "invalid_payload"
    assert outcome.symbol == "SPY"
    assert outcome.error_message.startswith(f"Invalid payload: {field} must")
    assert not BiasStateHistory.objects.exists() and not BiasStateCurrent.objects.exists()


def test_an_invalid_payload_without_a_usable_symbol_audits_no_symbol():
    outcome = ingest({"event_id_raw": "x", "source": "MTF_BIAS_ENGINE_V3"})
    assert outcome.http_status == 422 and outcome.symbol is None
    assert {"field": "mtf", "message": "is required"} in outcome.body["details"]


def test_a_v1_payload_is_archived_and_mapped_into_the_unified_state(any_cache):
    payload = v1_payload()
    outcome = ingest(payload, kind="bias_legacy")
    assert outcome.body == {"success": True, "event_id": outcome.event_id, "symbol": "QQQ", "status": "accepted"}
    history = BiasStateHistory.objects.get(symbol="QQQ")
    assert (history.source, history.status, history.event_id_raw) == ("MTF_BIAS_ENGINE_V1", "accepted", payload["event_id_raw"])
    state = current("QQQ").state_json
    assert (state["source"], state["bias"], state["biasScore"], state["regimeType"]) == ("MTF_BIAS_ENGINE_V1", "BEARISH", -44, "TREND")
    assert state["effective"]["tradeSuppressed"] is False
    resent = ingest(payload, kind="bias_legacy")
    assert resent.body["status"] == "duplicate"
    assert BiasStateHistory.objects.filter(symbol="QQQ").count() == 1


def test_an_invalid_v1_payload_is_a_422():
    outcome = ingest(v1_payload({"schema_version": "2"}), kind="bias_legacy")
    assert outcome.http_status == 422
    assert outcome.body["details"] == [{"field": "schema_version", "message": "must be 1"}]


def test_v1_and_v3_events_share_one_ordering_per_symbol():
    ingest(v3_payload(symbol="QQQ", ts_ms=BASE_TS_MS))
    assert ingest(v1_payload(ts_ms=BASE_TS_MS - 1), kind="bias_legacy").body["status"] == "out_of_order"
    assert ingest(v1_payload(ts_ms=BASE_TS_MS + 1), kind="bias_legacy").body["status"] == "accepted"
    assert current("QQQ").source == "MTF_BIAS_ENGINE_V1"


def test_symbols_are_independent():
    ingest(v3_payload(ts_ms=BASE_TS_MS))
    assert ingest(v3_payload(symbol="AAPL", ts_ms=BASE_TS_MS - 60_000)).body["status"] == "accepted"
    assert set(BiasStateCurrent.objects.values_list("symbol", flat=True)) == {"SPY", "AAPL"}


def test_a_lost_insert_race_on_the_event_id_is_answered_duplicate_and_rolled_back(monkeypatch):
    # Same event_id_raw already stored under another symbol, and the pre-check is made to miss it,
    # as when two transactions pass the check before either commits.
    ingest(v3_payload(ts_ms=BASE_TS_MS))
    raced = v3_payload(symbol="IWM", ts_ms=BASE_TS_MS) | {"event_id_raw": v3_payload(ts_ms=BASE_TS_MS)["event_id_raw"]}
    monkeypatch.setattr(apply_event, "_recorded", lambda event_id_raw: False)
    outcome = ingest(raced)
    assert outcome.body["status"] == "duplicate"
    assert not BiasStateCurrent.objects.filter(symbol="IWM").exists()  # its new row went with the savepoint
    assert BiasStateHistory.objects.count() == 1


def test_the_accepted_state_is_cached_only_after_commit(shared_state_cache, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ingest(v3_payload())
    assert bias_cache.get(bias_cache.state_key("SPY")) is None
    for callback in callbacks:
        callback()
    assert bias_cache.get(bias_cache.state_key("SPY"))["updatedAtMs"] == BASE_TS_MS


def test_an_older_state_never_overwrites_a_newer_cached_one(shared_state_cache):
    bias_cache.set(bias_cache.state_key("SPY"), {"updatedAtMs": BASE_TS_MS + 1}, 30)
    bias_cache.publish_state("SPY", {"updatedAtMs": BASE_TS_MS})
    assert bias_cache.get(bias_cache.state_key("SPY")) == {"updatedAtMs": BASE_TS_MS + 1}


def test_without_a_shared_cache_every_read_sees_the_latest_committed_state(settings, django_capture_on_commit_callbacks):
    settings.REDIS_URL = ""  # embedded mode: each process has its own local cache
    with django_capture_on_commit_callbacks(execute=True):
        ingest(v3_payload())
    assert get_bias_state("SPY", now=NOW)["updatedAtMs"] == BASE_TS_MS
    assert bias_cache.get(bias_cache.state_key("SPY")) is None  # nothing a sibling process could serve stale
    with django_capture_on_commit_callbacks(execute=True):
        ingest(v3_payload(ts_ms=BASE_TS_MS + 60_000))
    assert get_bias_state("SPY", now=NOW + timedelta(minutes=1))["updatedAtMs"] == BASE_TS_MS + 60_000


def test_reads_come_from_the_database_whatever_the_cache_does(any_cache, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ingest(v3_payload())
    assert get_bias_state("spy", now=NOW)["bias"] == "BULLISH"
    assert get_bias_state("QQQ", now=NOW) is None


def test_staleness_is_recomputed_on_read():
    ingest(v3_payload())
    assert get_bias_state("SPY", now=NOW)["isStale"] is False
    later = get_bias_state("SPY", now=NOW + timedelta(minutes=10))  # 11 minutes after the event, in RTH
    assert (later["isStale"], later["stalenessMinutes"]) == (True, 11.0)


def test_gating_config_changes_apply_to_the_next_event(django_capture_on_commit_callbacks):
    ingest(v3_payload(ts_ms=BASE_TS_MS - 1000))
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        update_bias_config(key="gating", values={"chopSuppressionThreshold": 30})
    ingest(v3_payload(ts_ms=BASE_TS_MS))  # chop 32
    assert current().state_json["effective"]["tradeSuppressed"] is True


@pytest.mark.django_db(transaction=True)
def test_the_service_refuses_to_run_outside_a_transaction():
    with pytest.raises(RuntimeError, match="inside the caller's transaction"):
        ingest_bias_payload(payload=v3_payload(), kind="bias_v3", received_at=clock.now())
    assert not BiasStateHistory.objects.exists()
