"""Operator REST API (SPEC §13): signals, orders, trades, positions, monitoring status, trace.

Token auth (DRF `Token` / `Bearer`, from settings), one APIView per operation, reads through
`optionsengine.api.selectors` and the pipeline's trace / monitoring selectors. OpenAPI schema at
/api/schema/ (drf-spectacular), docs at /api/docs/.
"""
