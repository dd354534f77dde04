"""Realtime stream, Prometheus metrics and their transport (SPEC §13). See docs/operations.md."""
