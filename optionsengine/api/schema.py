"""drf-spectacular extensions (imported by `optionsengine.api.views`, so they are registered
before any schema is generated):

- the `Bearer` token scheme (`optionsengine.lib.auth.BearerTokenAuthentication`);
- descriptions of the other apps' plain APIViews (bias reads, tuner run, cron), which declare no
  serializer: without them the schema would skip those endpoints with a warning. A new APIView
  without `@extend_schema` shows up as a warning in `manage.py spectacular --fail-on-warn` (and in
  tests/api/test_schema.py) — describe it at its definition, or here.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiViewExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema

OBJECT = OpenApiResponse(OpenApiTypes.OBJECT)


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "optionsengine.lib.auth.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer",
                "description": "the DRF API token: `Authorization: Bearer <key>` (POST /api/auth/token)"}


def _described(target: str, method: str, **schema):
    """An OpenApiViewExtension documenting `method` of the APIView at `target`."""

    class Extension(OpenApiViewExtension):
        target_class = target

        def view_replacement(self):
            class Described(self.target_class):
                pass

            setattr(Described, method, extend_schema(**schema)(getattr(self.target_class, method)))
            return Described

    Extension.__name__ = Extension.__qualname__ = f"Describe{target.rsplit('.', 1)[-1]}"
    return Extension


SYMBOL = OpenApiParameter("symbol", str, description="underlying, e.g. SPY (default SPY)")

BiasStateSchema = _described(
    "bias_app.api.views.BiasStateGetApi", "get", parameters=[SYMBOL],
    responses={200: OBJECT, 400: OBJECT, 404: OpenApiResponse(OpenApiTypes.OBJECT, description="no bias state")},
    description="`{symbol, state}`: the unified bias state with staleness computed now (SPEC §4).")
BiasHistorySchema = _described(
    "bias_app.api.views.BiasHistoryListApi", "get",
    parameters=[SYMBOL, OpenApiParameter("limit", int, description="1–100, default 50")],
    responses={200: OBJECT, 400: OBJECT}, description="`{symbol, history, count}`: applied states, newest first.")
BiasSummarySchema = _described(
    "bias_app.api.views.BiasSummaryGetApi", "get", responses={200: OBJECT},
    description="`{symbols, count, generatedAt}`: one row per symbol.")
AdaptiveRunSchema = _described(
    "bias_app.api.views.AdaptiveTunerRunApi", "post",
    request=OpenApiTypes.OBJECT, responses={200: OBJECT, 400: OBJECT},
    description='Body `{"dryRun": false, "force": false}`; answers the run summary (SPEC §11).')
CronSchema = _described(
    "optionsengine.cron.CronProcessQueueApi", "post", request=None, auth=[],
    responses={200: OBJECT, 401: OBJECT, 503: OBJECT, 500: OBJECT},
    description="Runs every stage once (SPEC §12). Auth: `Authorization: Bearer <CRON_SECRET>` or "
                "`X-Cron-Secret`, not an API token.")
