"""Reading nested JSON (alert payloads, bias states) by dotted path. Pure."""

from __future__ import annotations

from collections.abc import Mapping


def dig(data: Mapping, dotted: str) -> object:
    """`data["a"]["b"]` for "a.b", or None when any level is missing or not an object."""
    node: object = data
    for part in dotted.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node
