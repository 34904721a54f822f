"""Delivering outbox rows exactly once, for every app's sweeps (follow-up reminders, lead digests,
stale-deal alerts, overdue-payment warnings, service-level alerts, KPI report e-mails).

An outbox row (a subclass of ``interactions.models.OutboxRow``: ``status``, ``claim_token``,
``lease_until``, ``attempts``, ``sent_at``) is planned by its sweep under a unique constraint, so
a rerun or a second worker plans nothing twice. Delivery then:

1. claims a batch of pending rows (and rows left "sending" past their lease by a dead worker)
   with ``SELECT … FOR UPDATE SKIP LOCKED``, marked "sending" with a claim token and a lease;
2. per row, the sweep's ``deliver_one`` locks the row again in one transaction (still ours? see
   ``claimed``), creates the in-app notification, sends the e-mail and marks the row sent. The
   notification is therefore created exactly once; an e-mail sent just before a crash is repeated
   after the lease (an e-mail may be repeated, never lost);
3. rows whose lease ran out ``MAX_ATTEMPTS`` times are marked failed and logged.

``accounts`` sits below the apps that own outboxes, so this module only knows the fields above.
"""

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import models, transaction
from django.db.models import F, Q

logger = logging.getLogger(__name__)

# The states of interactions.models.OutboxRow.Status.
PENDING = "pending"
SENDING = "sending"
SENT = "sent"
SKIPPED = "skipped"
FAILED = "failed"

LEASE = timedelta(minutes=5)  # a claimed row not delivered by then belonged to a dead worker
MAX_ATTEMPTS = 5  # then the row is marked failed (logged) instead of being retried for ever

# Any subclass of interactions.models.OutboxRow.
OutboxModel = type[models.Model]
# ``deliver_one(pk, token, now)`` returns "sent", "skipped" or "gone" (another run owns the row).
Deliverer = Callable[[int, uuid.UUID, datetime], str]


@dataclass
class SweepResult:
    planned: int = 0
    sent: int = 0
    skipped: int = 0


def deadline_after(time_budget: timedelta) -> float:
    """A ``time.monotonic()`` value: sweeps stop starting batches after it (the rest waits)."""
    return time.monotonic() + time_budget.total_seconds()


def deliver(
    model: OutboxModel,
    deliver_one: Deliverer,
    *,
    now: datetime,
    deadline: float,
    batch_size: int,
    result: SweepResult,
) -> None:
    """Claim and deliver ``model``'s deliverable rows in batches until none is left or ``deadline``."""
    manager = model._default_manager
    # Rows that failed too often (their lease ran out MAX_ATTEMPTS times) stop being retried.
    failed = manager.filter(status=SENDING, lease_until__lt=now, attempts__gte=MAX_ATTEMPTS).update(
        status=FAILED
    )
    if failed:
        logger.error("%d %s rows failed %d times and were given up", failed, model.__name__, MAX_ATTEMPTS)
    while time.monotonic() < deadline:
        token, ids = claim(model, now=now, batch_size=batch_size)
        if not ids:
            break
        for pk in ids:
            try:
                outcome = deliver_one(pk, token, now)
            except Exception:
                # The row stays "sending" until its lease ends; the next run after that retries it.
                logger.exception("Delivering %s %s failed; retried after its lease", model.__name__, pk)
                continue
            if outcome == SENT:
                result.sent += 1
            elif outcome == SKIPPED:
                result.skipped += 1


def claim(model: OutboxModel, *, now: datetime, batch_size: int) -> tuple[uuid.UUID, list[int]]:
    """Claim up to ``batch_size`` deliverable rows for this run (a token tells them apart)."""
    manager = model._default_manager
    token = uuid.uuid4()
    deliverable = Q(status=PENDING) | Q(status=SENDING, lease_until__lt=now)
    with transaction.atomic():
        ids = list(
            manager.filter(deliverable)
            .order_by("pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:batch_size]
        )
        manager.filter(pk__in=ids).update(
            status=SENDING, claim_token=token, lease_until=now + LEASE, attempts=F("attempts") + 1
        )
    return token, ids


def claimed(model: OutboxModel, pk: int, token: uuid.UUID) -> models.QuerySet:
    """The row, locked, if this run still owns it (call inside ``deliver_one``'s transaction);
    empty when its lease ran out and another run took it over."""
    return model._default_manager.select_for_update(of=("self",)).filter(
        pk=pk, status=SENDING, claim_token=token
    )


def mark(model: OutboxModel, pk: int, status: str, now: datetime, **fields: object) -> None:
    """Record the outcome of a delivery (``sent_at`` only for "sent")."""
    model._default_manager.filter(pk=pk).update(
        status=status, sent_at=now if status == SENT else None, **fields
    )


def deliver_row(
    model: OutboxModel,
    pk: int,
    token: uuid.UUID,
    now: datetime,
    *,
    related: Sequence[str],
    holds: Callable[[models.Model, datetime], bool],
    send: Callable[[models.Model, datetime], None],
) -> str:
    """One claimed row's delivery, in one transaction: lock it if this run still owns it, skip it
    when ``holds(row, now)`` says it no longer applies (the task was done, the deal moved on), else
    ``send(row, now)`` (notification and e-mail) and mark it sent. ``related``: what ``holds`` and
    ``send`` read, fetched with the row."""
    with transaction.atomic():
        row = claimed(model, pk, token).select_related(*related).first()
        if row is None:  # our lease ran out and another run took it over
            return "gone"
        if not holds(row, now):
            mark(model, pk, SKIPPED, now)
            return SKIPPED
        send(row, now)
        mark(model, pk, SENT, now)
        return SENT
