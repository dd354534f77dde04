"""Keep secrets out of log lines: access logs print `?token=<secret>`, and HTTP client logs
print provider keys sent as query parameters (`apikey=`, `apiKey=`)."""

from __future__ import annotations

import logging
import re

_TOKEN_RE = re.compile(r"([?&](?:token|secret|passphrase|apikey|api_key|key)=)[^&\s\"']*", re.IGNORECASE)


def scrub(text: str) -> str:
    return _TOKEN_RE.sub(r"\1[REDACTED]", text)


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
