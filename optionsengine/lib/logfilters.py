"""Keep the webhook secret out of log lines: access logs print `?token=<secret>` otherwise."""

from __future__ import annotations

import logging
import re

_TOKEN_RE = re.compile(r"([?&](?:token|secret|passphrase)=)[^&\s\"']*", re.IGNORECASE)


def scrub(text: str) -> str:
    return _TOKEN_RE.sub(r"\1[REDACTED]", text)


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
