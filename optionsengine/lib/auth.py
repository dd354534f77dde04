"""API token authentication: DRF tokens, sent as `Authorization: Token <key>` or `Bearer <key>`."""

from rest_framework.authentication import TokenAuthentication


class BearerTokenAuthentication(TokenAuthentication):
    """The same DRF token under the `Bearer` keyword that scripts and the original service use."""

    keyword = "Bearer"

