"""A tiny strict schema checker for bias payloads (pure: no Django).

Why not DRF serializers: they coerce ("5" → 5, 1 → "1"), and the producer contract says numbers are
JSON numbers and enums are exact. Each check appends field-level issues (`mtf.timeframes[0].bias`)
and returns the cleaned value; unknown keys are dropped, as the producer's schema does.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

MISSING: Any = object()
# No price, level or epoch-ms timestamp comes near this; arithmetic on numbers within it stays finite.
MAX_MAGNITUDE = 1e15


@dataclass(frozen=True)
class Issue:
    field: str
    message: str

    def as_dict(self) -> dict:
        return {"field": self.field, "message": self.message}


class Spec:
    nullable: bool = False

    def check(self, value: Any, path: str, issues: list[Issue]) -> Any:
        if value is None and self.nullable:
            return None
        if value is None:
            issues.append(Issue(path, "must not be null"))
            return None
        return self._check(value, path, issues)

    def _check(self, value: Any, path: str, issues: list[Issue]) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class Str(Spec):
    non_empty: bool = True
    max_length: int | None = None
    nullable: bool = False

    def _check(self, value, path, issues):
        if not isinstance(value, str):
            issues.append(Issue(path, "must be a string"))
            return None
        if self.non_empty and not value.strip():
            issues.append(Issue(path, "must not be empty"))
            return None
        if self.max_length is not None and len(value) > self.max_length:
            issues.append(Issue(path, f"must be at most {self.max_length} characters"))
            return None
        return value


@dataclass(frozen=True)
class Enum(Spec):
    choices: tuple[str, ...]
    nullable: bool = False

    def _check(self, value, path, issues):
        if not isinstance(value, str) or value not in self.choices:
            issues.append(Issue(path, f"must be one of {', '.join(self.choices)}"))
            return None
        return value


def as_number(value: Any) -> int | float | None:
    """A JSON number as int/float, or None. Bools are not numbers; NaN/Infinity are refused."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):  # a caller that parsed JSON with parse_float=Decimal
        if not value.is_finite():
            return None
        return int(value) if value == value.to_integral_value() and value.as_tuple().exponent >= 0 else float(value)
    return None


@dataclass(frozen=True)
class Num(Spec):
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False
    nullable: bool = False
    hint: str | None = None  # replaces the generic range message when a range is broken

    def _check(self, value, path, issues):
        number = as_number(value)
        if number is None:
            issues.append(Issue(path, "must be a finite number"))
            return None
        if self.integer:
            if isinstance(number, float) and not number.is_integer():
                issues.append(Issue(path, "must be an integer"))
                return None
            number = int(number)
        if (self.minimum is not None and number < self.minimum) or (self.maximum is not None and number > self.maximum):
            issues.append(Issue(path, self.hint or _range_message(self.minimum, self.maximum)))
            return None
        if abs(number) > MAX_MAGNITUDE:
            issues.append(Issue(path, f"must be between -{MAX_MAGNITUDE:g} and {MAX_MAGNITUDE:g}"))
            return None
        return number


def _range_message(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f"must be between {minimum:g} and {maximum:g}"
    if minimum is not None:
        return f"must be at least {minimum:g}"
    return f"must be at most {maximum:g}"


@dataclass(frozen=True)
class Bool(Spec):
    nullable: bool = False

    def _check(self, value, path, issues):
        if not isinstance(value, bool):
            issues.append(Issue(path, "must be true or false"))
            return None
        return value


@dataclass(frozen=True)
class Const(Spec):
    value: str

    def _check(self, value, path, issues):
        if value != self.value:
            issues.append(Issue(path, f"must be {self.value}"))
            return None
        return value


@dataclass(frozen=True)
class Opt:
    """An optional key: absent → `default`. (A present-but-null key is the inner spec's business.)"""

    spec: Spec
    default: Any = None


@dataclass(frozen=True)
class Obj(Spec):
    fields: Mapping[str, Spec | Opt] = field(default_factory=dict)
    nullable: bool = False

    def _check(self, value, path, issues):
        if not isinstance(value, Mapping):
            issues.append(Issue(path or "(body)", "must be an object"))
            return None
        cleaned: dict[str, Any] = {}
        for key, spec in self.fields.items():
            child = f"{path}.{key}" if path else key
            raw = value.get(key, MISSING)
            if isinstance(spec, Opt):
                cleaned[key] = spec.default if raw is MISSING else spec.spec.check(raw, child, issues)
            elif raw is MISSING:
                issues.append(Issue(child, "is required"))
                cleaned[key] = None
            else:
                cleaned[key] = spec.check(raw, child, issues)
        return cleaned


@dataclass(frozen=True)
class Arr(Spec):
    item: Spec
    min_items: int = 0
    max_items: int = 50  # a producer never sends more timeframes; bounds the work per request
    nullable: bool = False

    def _check(self, value, path, issues):
        if not isinstance(value, Sequence) or isinstance(value, str | bytes):
            issues.append(Issue(path, "must be a list"))
            return None
        if len(value) < self.min_items:
            issues.append(Issue(path, f"must have at least {self.min_items} item(s)"))
            return None
        if len(value) > self.max_items:
            issues.append(Issue(path, f"must have at most {self.max_items} items"))
            return None
        return [self.item.check(item, f"{path}[{index}]", issues) for index, item in enumerate(value)]


def validate(spec: Obj, payload: Any) -> tuple[dict | None, list[Issue]]:
    """(cleaned value, issues). With issues the cleaned value is partial: bad fields are None."""
    issues: list[Issue] = []
    cleaned = spec.check(payload, "", issues)
    return cleaned, issues
