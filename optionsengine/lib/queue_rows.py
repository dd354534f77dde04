"""The shape of a django-q2 ORM-broker queue row, shared by the writer that builds it
(optionsengine.pipeline.followups) and the services that insert it in their own statement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class TaskRow:
    """A `django_q_ormq` row: what `async_task` would insert (its package also says sync=False)."""

    key: str  # the cluster's queue name
    payload: str  # the signed, pickled task package
    lock: datetime  # wall clock: django-q2 pulls rows whose lock is in the past
