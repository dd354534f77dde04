"""The demo's two outputs, both pure functions of the figures (optionsengine/demo/figures.py): the
printed summary and a self-contained HTML report (inline CSS and SVG, no scripts, no external assets).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from html import escape

from optionsengine.lib.market_calendar import MARKET_TZ


def _money(value) -> str:
    if value is None:
        return "—"
    number = Decimal(str(value))
    return f"{'-' if number < 0 else ''}${abs(number):,.2f}"


def _plain(value) -> str:
    if value is None:
        return "—"
    return "∞" if str(value) == "Infinity" else str(value)


def _ny(value: str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if not value:
        return "—"
    return datetime.fromisoformat(value).astimezone(MARKET_TZ).strftime(fmt)


# --- text -------------------------------------------------------------------------------------


def render_text(figures: dict, *, logged_errors: list[str] | None = None) -> str:
    f = figures
    lines: list[str] = []
    add = lines.append
    run = f["run"]
    add(f"== {f['session']['name']} ==")
    add(f"simulated {_ny(run['first_tick'])} → {_ny(run['last_tick'])} New York, {run['ticks']} pipeline runs"
        + (f", {run['close_out_days']} close-out day(s)" if run["close_out_days"] else ""))
    d = f["deliveries"]
    add(f"alerts posted: {d['posted']} (audit rows: {d['audit_rows']})")
    add("  trade alerts: " + _counts(f["alerts"]["signal"]))
    add("  bias alerts:  " + _counts(f["alerts"]["bias"]))
    s = f["signals"]
    add(f"signals: {s['total']} — approved {s['approved']}, rejected {s['rejected']}, still pending {s['pending']}")
    for reason, n in s["rejected_by_reason"].items():
        add(f"  rejected {n:>3} × {reason}")
    add("orders: " + _counts(f["orders"]))
    for reason, n in f["order_failures"].items():
        add(f"  failed {n:>3} × {reason}")
    add(f"fills: {f['fills']['entry']} entries, {f['fills']['exit']} exits")
    add("exits by reason:")
    for reason, row in f["exits_by_reason"].items():
        add(f"  {reason:<32} {row['fills']:>3} fill(s) {row['contracts']:>4} contracts {_money(row['realized_pnl']):>12}")
    p = f["positions"]
    add(f"positions: {p['opened']} opened, {p['closed']} closed, {p['still_open']} still open"
        + (f" (unrealized {_money(p['unrealized_pnl_open'])})" if p["still_open"] else ""))
    add("realized P&L:")
    for engine, row in f["pnl"]["by_engine"].items():
        add(f"  engine {engine}: {_money(row['realized_pnl']):>12}  ({row['closed']} closed: {row['wins']} won, "
            f"{row['losses']} lost; win rate {_plain(row['win_rate_percent'])}%, profit factor {_plain(row['profit_factor'])})")
    total = f["pnl"]["total"]
    add(f"  total:    {_money(total['realized_pnl']):>12}  (win rate {_plain(f['pnl']['win_rate_percent'])}%, "
        f"profit factor {_plain(f['pnl']['profit_factor'])}, max drawdown {_money(f['pnl']['max_drawdown'])})")
    r = f["reconciliation"]
    add(f"reconciliation: exit fills {_money(r['exit_fills_recomputed'])} = positions {_money(r['positions_realized_pnl'])};"
        f" closed positions {_money(r['closed_positions_realized_pnl'])} = trade performance"
        f" {_money(r['trade_performance_realized_pnl'])}: {'OK' if r['ok'] else 'MISMATCH'}")
    if d["surprises"]:
        add(f"{len(d['surprises'])} alert(s) ended differently than the session file expects:")
        for row in d["surprises"]:
            add(f"  alert {row['line']} at {_ny(row['at'], '%H:%M:%S')} {row['symbol'] or ''}: expected {row['expected']}, "
                f"got {row['outcome']} (HTTP {row['http']}) {row['detail']}")
    if f["stage_failures"]:
        add("STAGE FAILURES:")
        for row in f["stage_failures"]:
            add(f"  {row['stage']}: {row['error']} — {row['times']}× from {_ny(row['first_at'], '%m-%d %H:%M')}"
                f" to {_ny(row['last_at'], '%m-%d %H:%M')}")
    if logged_errors:
        add(f"{len(logged_errors)} error log record(s) captured (first shown; all in the report):")
        add("  " + logged_errors[0].splitlines()[0][:300])
    return "\n".join(lines)


def _counts(counts: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items()) or "none"


# --- HTML -------------------------------------------------------------------------------------

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1100px;color:#1d2433;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dde2ea;padding-bottom:4px}
.muted{color:#647087}.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.card{border:1px solid #dde2ea;border-radius:8px;padding:10px 14px;min-width:130px}
.card b{display:block;font-size:20px}.pos{color:#137333}.neg{color:#b3261e}
table{border-collapse:collapse;width:100%;margin:6px 0}th,td{padding:4px 8px;border-bottom:1px solid #eef1f5;text-align:left;vertical-align:top}
th{background:#f6f8fb;font-weight:600}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#137333;font-weight:600}.bad{color:#b3261e;font-weight:600}pre{white-space:pre-wrap;background:#f6f8fb;padding:8px;font-size:12px}
svg text{font:11px system-ui,sans-serif;fill:#647087}
"""


def render_html(figures: dict, *, logged_errors: list[str] | None = None, run_seconds: float | None = None) -> str:
    f = figures
    total = f["pnl"]["total"]
    r = f["reconciliation"]
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        f"<title>optionsengine demo — {escape(f['session']['name'])}</title><style>{_CSS}</style></head><body>",
        f"<h1>optionsengine demo — {escape(f['session']['name'])}</h1>",
        f"<p class=muted>Simulated {escape(_ny(f['run']['first_tick']))} → {escape(_ny(f['run']['last_tick']))} New York; "
        f"{f['run']['ticks']} pipeline runs; {f['deliveries']['posted']} alerts posted to the real webhook"
        + (f"; replayed in {run_seconds:.1f} s" if run_seconds is not None else "") + ".</p>",
        "<div class=cards>",
        _card("Realized P&L", _money(total["realized_pnl"]), _sign(total["realized_pnl"])),
        _card("Signals approved", f"{f['signals']['approved']} / {f['signals']['total']}"),
        _card("Positions", f"{f['positions']['opened']} opened, {f['positions']['closed']} closed"),
        _card("Win rate", f"{_plain(f['pnl']['win_rate_percent'])}%"),
        _card("Profit factor", _plain(f["pnl"]["profit_factor"])),
        _card("Max drawdown", _money(f["pnl"]["max_drawdown"])),
        "</div>",
        "<h2>Equity curve (cumulative realized P&amp;L)</h2>",
        equity_svg(f["equity_curve"], start=f["run"]["first_tick"], end=f["run"]["last_tick"]),
        "<h2>Realized P&amp;L by engine</h2>", _group_table(f["pnl"]["by_engine"], "engine", total),
        "<h2>Realized P&amp;L by symbol</h2>", _group_table(f["pnl"]["by_symbol"], "symbol", total),
        "<h2>Reconciliation</h2>",
        _table(["source", "Σ realized P&L"], [
            ["exit fills: (fill − entry) × contracts × 100", _money(r["exit_fills_recomputed"])],
            ["trades.realized_pnl of exit fills", _money(r["exit_fills_trade_column"])],
            ["refactored_positions.realized_pnl", _money(r["positions_realized_pnl"])],
            ["bias_trade_performance.realized_pnl", _money(r["trade_performance_realized_pnl"])],
        ], numeric=(1,)),
        f"<p class={'ok' if r['ok'] else 'bad'}>{'All four agree.' if r['ok'] else 'MISMATCH: the sums differ.'}</p>",
        "<h2>Alerts</h2>",
        _table(["kind", "outcome", "count"],
               [["trade", k, v] for k, v in f["alerts"]["signal"].items()] + [["bias", k, v] for k, v in f["alerts"]["bias"].items()],
               numeric=(2,)),
        "<h2>Signals</h2>",
        f"<p>{f['signals']['total']} signals: {f['signals']['approved']} approved, {f['signals']['rejected']} rejected, "
        f"{f['signals']['pending']} still pending.</p>",
        _table(["rejection reason", "signals"], [[k, v] for k, v in f["signals"]["rejected_by_reason"].items()], numeric=(1,)),
        "<h2>Orders and fills</h2>",
        _table(["side:status", "orders"], [[k, v] for k, v in f["orders"].items()], numeric=(1,)),
        f"<p>{f['fills']['entry']} entry fills, {f['fills']['exit']} exit fills.</p>",
        _table(["failed order", "count"], [[k, v] for k, v in f["order_failures"].items()], numeric=(1,)) if f["order_failures"] else "",
        "<h2>Exits by reason</h2>",
        _table(["exit reason", "fills", "contracts", "realized P&L"],
               [[k, v["fills"], v["contracts"], _money(v["realized_pnl"])] for k, v in f["exits_by_reason"].items()],
               numeric=(1, 2, 3)),
        "<h2>Positions</h2>",
        _table(["symbol", "option", "engine", "setup", "qty", "entry (NY)", "entry", "exit (NY)", "exit", "exit reason", "realized P&L"],
               [[p["symbol"], p["option_symbol"], p["engine"] or "", p["setup_type"] or "", p["quantity"],
                 _ny(p["entry_time"], "%m-%d %H:%M"), _plain(p["entry_price"]), _ny(p["exit_time"], "%m-%d %H:%M"),
                 _plain(p["exit_price"]), p["exit_reason"] or p["status"], _money(p["realized_pnl"])]
                for p in f["positions_table"]], numeric=(4, 6, 8, 10)),
    ]
    refused = f["deliveries"]["refused"]
    if refused:
        parts += ["<h2>Refused deliveries</h2>", _table(
            ["line", "time (NY)", "path", "outcome", "HTTP", "why", "note"],
            [[x["line"], _ny(x["at"], "%H:%M:%S"), x["path"], x["outcome"], x["http"], x["detail"], x["note"] or ""] for x in refused])]
    surprises = f["deliveries"]["surprises"]
    if surprises:
        parts += ["<h2>Alerts that ended differently than the file expects</h2>", _table(
            ["line", "time (NY)", "symbol", "expected", "got", "HTTP", "why"],
            [[x["line"], _ny(x["at"], "%H:%M:%S"), x["symbol"] or "", x["expected"], x["outcome"], x["http"], x["detail"]]
             for x in surprises])]
    if f["stage_failures"]:
        parts += ["<h2 class=bad>Stage failures</h2>", _table(
            ["stage", "error", "times", "first (NY)", "last (NY)"],
            [[x["stage"], x["error"], x["times"], _ny(x["first_at"]), _ny(x["last_at"])] for x in f["stage_failures"]])]
    if logged_errors:
        parts += ["<h2 class=bad>Error log records</h2>"] + [f"<pre>{escape(e)}</pre>" for e in logged_errors]
    parts += [
        "<h2>Stage outcomes</h2>",
        _table(["stage:outcome", "count"], [[k, v] for k, v in f["stage_counts"].items()], numeric=(1,)),
        "<p class=muted>Generated by <code>manage.py demo</code>; see docs/demo.md for how to read it.</p>",
        "</body></html>",
    ]
    return "\n".join(parts)


def equity_svg(curve: list, width: int = 1000, height: int = 280, *, start: str | None = None, end: str | None = None) -> str:
    """A step chart of cumulative realized P&L against (simulated) time, as inline SVG; the time
    axis spans `start`–`end` (the replay) when given, else the closes."""
    left, right, top, bottom = 70, 16, 14, 30
    if not curve:
        return (f'<svg id=equity-curve xmlns="http://www.w3.org/2000/svg" width="{width}" height="60" role=img>'
                '<text x="10" y="30">No position was closed: no realized P&amp;L.</text></svg>')
    times = [datetime.fromisoformat(t).timestamp() for t, _ in curve]
    values = [float(v) for _, v in curve]
    t0 = min(times[0], datetime.fromisoformat(start).timestamp()) if start else times[0]
    t1 = max(times[-1], datetime.fromisoformat(end).timestamp()) if end else times[-1]
    if t1 == t0:
        t1 = t0 + 60
    lo, hi = min(0.0, *values), max(0.0, *values)
    if hi == lo:
        hi = lo + 1
    pad = (hi - lo) * 0.08
    lo, hi = lo - pad, hi + pad

    def x(t: float) -> float:
        return left + (t - t0) / (t1 - t0) * (width - left - right)

    def y(v: float) -> float:
        return top + (hi - v) / (hi - lo) * (height - top - bottom)

    path = [f"M{x(t0):.1f},{y(0):.1f}"]
    for t, v in zip(times, values, strict=True):
        path.append(f"H{x(t):.1f}V{y(v):.1f}")
    dots = "".join(f'<circle cx="{x(t):.1f}" cy="{y(v):.1f}" r="2.2" fill="#1a5fb4"/>' for t, v in zip(times, values, strict=True))
    end_colour = "#137333" if values[-1] >= 0 else "#b3261e"
    ticks = "".join(
        f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#eef1f5"/>'
        f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{escape(_money(round(v, 2)))}</text>'
        for v in _nice_ticks(lo, hi)
    )
    start_label = escape(datetime.fromtimestamp(t0, MARKET_TZ).strftime("%m-%d %H:%M"))
    end_label = escape(datetime.fromtimestamp(t1, MARKET_TZ).strftime("%m-%d %H:%M"))
    return (
        f'<svg id="equity-curve" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label="Equity curve: cumulative realized P&amp;L">'
        f"{ticks}"
        f'<line x1="{left}" x2="{width - right}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="#9aa4b5" stroke-dasharray="4 3"/>'
        f'<path d="{"".join(path)}" fill="none" stroke="#1a5fb4" stroke-width="2"/>{dots}'
        f'<text x="{left}" y="{height - 8}">{start_label} NY</text>'
        f'<text x="{width - right}" y="{height - 8}" text-anchor="end">{end_label} NY</text>'
        f'<text x="{x(times[-1]) - 4:.1f}" y="{y(values[-1]) - 6:.1f}" text-anchor="end" style="fill:{end_colour};font-weight:600">'
        f"{escape(_money(round(values[-1], 2)))}</text></svg>"
    )


def _nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    raw = (hi - lo) / count
    magnitude = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = (lo // step + 1) * step
    ticks, value = [], first
    while value < hi:
        ticks.append(value)
        value += step
    return ticks


def _card(label: str, value: str, cls: str = "") -> str:
    return f"<div class=card>{escape(label)}<b class='{cls}'>{escape(value)}</b></div>"


def _sign(value) -> str:
    number = Decimal(str(value))
    return "pos" if number > 0 else "neg" if number < 0 else ""


def _group_table(groups: dict, label: str, total: dict) -> str:
    rows = [[k, g["positions"], g["closed"], g["wins"], g["losses"], f"{_plain(g['win_rate_percent'])}%",
             _plain(g["profit_factor"]), _money(g["realized_pnl"])] for k, g in groups.items()]
    rows.append(["total", total["positions"], total["closed"], total["wins"], total["losses"],
                 f"{_plain(total['win_rate_percent'])}%", _plain(total["profit_factor"]), _money(total["realized_pnl"])])
    return _table([label, "positions", "closed", "won", "lost", "win rate", "profit factor", "realized P&L"], rows,
                  numeric=(1, 2, 3, 4, 5, 6, 7))


def _table(headers: list[str], rows: list[list], numeric: tuple[int, ...] = ()) -> str:
    if not rows:
        return "<p class=muted>None.</p>"
    head = "".join(f"<th class={'n' if i in numeric else 'l'}>{escape(h)}</th>" for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f"<td class={'n' if i in numeric else 'l'}>{escape(str(c))}</td>" for i, c in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
