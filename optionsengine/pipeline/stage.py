"""What every pipeline stage sweep returns, so `run_once`, the cron endpoint and the command
print one shape: per-stage counts by outcome (claimed, approved, rejected:<reason>, …) and errors."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class StageResult:
    stage: str
    counts: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def count(self, outcome: str, n: int = 1) -> None:
        self.counts[outcome] += n

    def error(self, message: str) -> None:
        self.errors.append(message)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict:
        return {"stage": self.stage, "counts": dict(sorted(self.counts.items())), "errors": list(self.errors)}

    def summary_line(self) -> str:
        parts = ", ".join(f"{k}={v}" for k, v in sorted(self.counts.items())) or "nothing to do"
        tail = f"; {len(self.errors)} error(s)" if self.errors else ""
        return f"{self.stage}: {parts}{tail}"
