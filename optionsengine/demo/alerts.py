"""The replay file format (docs/demo.md): a session of recorded TradingView alerts. Pure: no Django.

A file is either a session object `{"name", "description", "market_seed", "settings",
"default_expect", "end", "alerts": [...]}` (everything but `alerts` optional) or a bare list of
alerts. An alert is either an entry `{"at", "payload" | "raw", "path", "secret", "expect", "note"}`
or a bare payload object, whose own `timestamp` (or `event_ts_ms` for a bias event) says when
it arrived.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from optionsengine.lib.market_calendar import MARKET_TZ

DEFAULT_PATH = "/webhook"
PATHS = ("/webhook", "/api/webhooks/mtf-bias")
EXPECTATIONS = ("accepted", "duplicate", "out_of_order", "invalid_signature", "invalid_payload", "error")
# Settings a session may pin for its run (so its figures do not depend on the environment).
PINNABLE_SETTINGS = frozenset({
    "AB_SPLIT_PERCENTAGE", "APP_MODE", "ENABLE_ORCHESTRATOR", "REQUIRE_MTF_BIAS_FOR_ENTRY", "MARKET_CLOSED_BEHAVIOR",
    "EMERGENCY_RISK_OFF", "E2E_TEST_MODE", "CONFLUENCE_MIN_THRESHOLD", "ENABLE_CONFLUENCE_GATE",
    "ENABLE_PORTFOLIO_GUARD", "MAX_CONTRACTS_PER_TRADE", "SIGNAL_MAX_AGE_MINUTES", "ORDER_EXPIRATION_MINUTES",
    "PAPER_SLIPPAGE_FRACTION", "ENABLE_SAME_STRIKE_COOLDOWN", "COOLDOWN_MINUTES_SAME_STRIKE",
    "DUPLICATE_WINDOW_SECONDS", "ENTRY_WAIT_DELAY_SECONDS", "ENTRY_WAIT_MAX_ATTEMPTS", "RISK_DEFER_SECONDS",
    "ORDER_CREATE_MAX_ATTEMPTS",
})
_EPOCH_MS = 1e12


class AlertFileError(ValueError):
    """The file cannot be replayed; the message names the alert (1-based) and the problem."""


@dataclass(frozen=True)
class ReplayAlert:
    index: int  # 1-based position in the file
    at: datetime  # aware UTC: when it reaches the webhook
    path: str
    payload: dict | None  # a JSON object to post (the demo puts its secret in)
    raw: str | None  # or a body sent verbatim as text/plain
    secret: str | None  # a secret to send instead of the demo's (e.g. a wrong one)
    expect: str | None  # the audit status the author expects, if they said
    note: str | None

    @property
    def is_bias(self) -> bool:
        return isinstance(self.payload, dict) and isinstance(self.payload.get("event_id_raw"), str)

    def body(self, demo_secret: str) -> tuple[bytes, str]:
        """(body, content type) exactly as posted; JSON bodies carry the secret the way TradingView
        sends it (a `secret` field), replacing any recorded one."""
        if self.raw is not None:
            return self.raw.encode(), "text/plain"
        payload = {k: v for k, v in self.payload.items() if k not in ("secret", "passphrase")}
        secret = self.secret if self.secret is not None else demo_secret
        if secret:
            payload["secret"] = secret
        return json.dumps(payload, separators=(",", ":")).encode(), "application/json"


@dataclass(frozen=True)
class Session:
    name: str
    description: str
    market_seed: int | None
    settings: dict[str, Any]
    end: datetime | None
    alerts: tuple[ReplayAlert, ...] = field(default_factory=tuple)


def load_session(path: str | Path) -> Session:
    try:
        data = json.loads(Path(path).read_text())
    except FileNotFoundError as exc:
        raise AlertFileError(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AlertFileError(f"{path}: not a JSON file ({exc})") from exc
    return parse_session(data, default_name=Path(path).name)


def parse_session(data: Any, *, default_name: str = "alerts") -> Session:
    if isinstance(data, list):
        data = {"alerts": data}
    if not isinstance(data, dict) or not isinstance(data.get("alerts"), list):
        raise AlertFileError('expected a list of alerts or an object with an "alerts" list')
    settings = data.get("settings") or {}
    if not isinstance(settings, dict):
        raise AlertFileError('"settings" must be an object')
    unknown = sorted(set(settings) - PINNABLE_SETTINGS)
    if unknown:
        raise AlertFileError(f'"settings" may pin only {sorted(PINNABLE_SETTINGS)}; not {unknown}')
    seed = data.get("market_seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise AlertFileError('"market_seed" must be a whole number')
    default_expect = data.get("default_expect")
    if default_expect is not None and default_expect not in EXPECTATIONS:
        raise AlertFileError(f'"default_expect" must be one of {list(EXPECTATIONS)}')
    alerts = tuple(_alert(i, entry, default_expect) for i, entry in enumerate(data["alerts"], start=1))
    if not alerts:
        raise AlertFileError("the file holds no alerts")
    end = _moment(data["end"], "end") if data.get("end") is not None else None
    return Session(
        name=str(data.get("name") or default_name), description=str(data.get("description") or ""),
        market_seed=seed, settings=dict(settings), end=end,
        alerts=tuple(sorted(alerts, key=lambda a: (a.at, a.index))),
    )


def _alert(index: int, entry: Any, default_expect: str | None) -> ReplayAlert:
    if not isinstance(entry, dict):
        raise AlertFileError(f"alert {index}: expected a JSON object")
    if "payload" not in entry and "raw" not in entry:
        entry = {"payload": entry}  # a bare recorded payload
    payload, raw = entry.get("payload"), entry.get("raw")
    if (payload is None) == (raw is None):
        raise AlertFileError(f'alert {index}: give exactly one of "payload" (an object) or "raw" (a string)')
    if payload is not None and not isinstance(payload, dict):
        raise AlertFileError(f'alert {index}: "payload" must be an object (use "raw" for a text body)')
    if raw is not None and not isinstance(raw, str):
        raise AlertFileError(f'alert {index}: "raw" must be a string')
    path = entry.get("path", DEFAULT_PATH)
    if path not in PATHS:
        raise AlertFileError(f'alert {index}: "path" must be one of {list(PATHS)}')
    expect = entry.get("expect", default_expect)
    if expect is not None and expect not in EXPECTATIONS:
        raise AlertFileError(f'alert {index}: "expect" must be one of {list(EXPECTATIONS)}')
    secret = entry.get("secret")
    if secret is not None and not isinstance(secret, str):
        raise AlertFileError(f'alert {index}: "secret" must be a string')
    if "at" in entry:
        at = _moment(entry["at"], f"alert {index}: at")
    else:
        at = _arrival(payload, index)
    return ReplayAlert(index=index, at=at, path=path, payload=payload, raw=raw, secret=secret, expect=expect,
                       note=entry.get("note"))


def _arrival(payload: dict | None, index: int) -> datetime:
    """When a bare payload arrived: its `timestamp`, else a bias event's `event_ts_ms`."""
    if payload is not None:
        for key in ("timestamp", "event_ts_ms", "time"):
            if payload.get(key) is not None:
                try:
                    return _moment(payload[key], key)
                except AlertFileError:
                    continue
    raise AlertFileError(f'alert {index}: no "at", and no usable timestamp in the payload to replay it at')


def _moment(value: Any, what: str) -> datetime:
    """ISO-8601 (naive = New York time), epoch seconds or epoch milliseconds → aware UTC."""
    if isinstance(value, bool):
        raise AlertFileError(f"{what}: not a time")
    if isinstance(value, int | float) or (isinstance(value, str) and value.strip().isdigit()):
        number = float(value)
        return datetime.fromtimestamp(number / 1000 if number >= _EPOCH_MS else number, UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise AlertFileError(f"{what}: {value!r} is not ISO-8601 or epoch time") from exc
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=MARKET_TZ)
        return parsed.astimezone(UTC)
    raise AlertFileError(f"{what}: {value!r} is not a time")
