"""Scheduled KPI reports (SPEC 7): plan, build and store one snapshot per period and scope, then
e-mail it to each subscriber exactly once, with an XLSX attachment.

The sweep (``reports_sweep``, Celery beat) is driven by the database and safe to run twice, late
or concurrently:

1. plan: for each active subscription, the scope it may see now (``analytics.base.scope_for``) and
   the last complete period of its frequency (last week Mon–Sun, last month, local TIME_ZONE);
   one ``ReportSnapshot`` row per (kind, period start, scope key) is inserted with
   ``ON CONFLICT DO NOTHING``, shared by the subscribers of the same scope;
2. build: a pending snapshot (or one left "building" past its lease by a dead worker) is claimed
   with a conditional update and a token before it is built, so a second worker builds nothing;
   the figures of every registered section (for the period and the one before) are stored as
   JSON with each section's rendered HTML. A build that raises is retried by the next run, up to
   ``MAX_BUILD_ATTEMPTS`` times;
3. deliver: one ``ReportDelivery`` row per ready snapshot and recipient (unique), claimed and
   delivered through ``accounts.outbox``: a failing e-mail leaves the row for a retry after the
   lease, never rebuilding the snapshot, and a sent row is never sent again.

A snapshot holds every registered section computed within its scope (the scope is what keeps a
manager's report from counting other teams); each reader is shown, and mailed, the sections
``Section.allowed`` lets them see. The stored HTML is rendered in the site's language at build
time; the e-mail around it is in the recipient's language.
"""

import datetime
import io
import logging
import re
import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.translation import gettext, pgettext
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from accounts import notifications
from accounts.access import Scope as Visibility
from accounts.access import led_team_ids, scope_of
from accounts.errors import DomainError
from accounts.models import Team, User
from accounts.outbox import SweepResult, claimed, deadline_after, deliver, mark
from accounts.tabular import safe_cell
from analytics import base
from analytics.base import COUNT, DAYS, HOURS, MONEY, MONTH, PERCENT, SCORE, WEEK, Period, Scope, Section
from analytics.models import Frequency, ReportDelivery, ReportSnapshot, ReportSubscription

logger = logging.getLogger(__name__)

BUILD_LEASE = datetime.timedelta(minutes=15)  # a build not finished by then belonged to a dead worker
MAX_BUILD_ATTEMPTS = 3  # then the snapshot is marked failed (logged); a manual build retries it
DELIVER_BATCH = 50
TIME_BUDGET = datetime.timedelta(minutes=10)  # below the beat interval, so runs rarely overlap
KINDS = (WEEK, MONTH)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# Periods and scopes


def last_complete_period(kind: str, today: datetime.date) -> Period:
    """Last week (Monday to Sunday) or last month of the local date ``today``."""
    return base.period_of(kind, today).previous()


def local_today(now: datetime.datetime) -> datetime.date:
    return timezone.localtime(now, timezone.get_default_timezone()).date()


def scope_label(scope: Scope) -> str:
    """'Every team', the teams' names, and the owner's name when narrowed to one person."""
    if scope.team_ids is None:
        parts = [] if scope.owner_id is not None else [gettext("Every team")]
    else:
        parts = [
            ", ".join(
                Team.objects.filter(pk__in=scope.team_ids).order_by("name").values_list("name", flat=True)
            )
        ]
    if scope.owner_id is not None:
        owner = User.objects.filter(pk=scope.owner_id).first()
        parts.append(str(owner) if owner else str(scope.owner_id))
    return " · ".join(parts)


def snapshot_scope(snapshot: ReportSnapshot) -> Scope:
    team_ids = None
    if not snapshot.scope_all_teams:
        team_ids = tuple(sorted(snapshot.scope_teams.values_list("pk", flat=True)))
    return Scope(viewer_id=snapshot.scope_viewer_id or 0, owner_id=snapshot.scope_owner_id, team_ids=team_ids)


def snapshot_period(snapshot: ReportSnapshot) -> Period:
    return Period(snapshot.kind, snapshot.period_start, snapshot.period_end)


# Reads: what a user may see


def snapshots_visible_to(user: User) -> QuerySet[ReportSnapshot]:
    """The snapshots of scopes within ``user``'s reach (ready or not): every one for those who see
    every team, the ones of the teams they lead for a manager, their own numbers for others."""
    snapshots = ReportSnapshot.objects.all()
    visibility = scope_of(user)
    if visibility is Visibility.ALL:
        return snapshots
    if visibility is Visibility.NONE:
        return snapshots.none()
    reach = Q(scope_owner=user, scope_all_teams=True)  # a person's own numbers
    if visibility is Visibility.TEAM and (led := led_team_ids(user)):
        # Every team of the snapshot is one they lead (scope_for keeps an owner-narrowed team
        # scope inside its teams, so the teams decide).
        teams = ReportSnapshot.scope_teams.through.objects.filter(reportsnapshot=OuterRef("pk"))
        reach |= Q(Exists(teams), ~Exists(teams.exclude(team_id__in=led)), scope_all_teams=False)
    return snapshots.filter(reach)


def report_archive(user: User) -> QuerySet[ReportSnapshot]:
    return (
        snapshots_visible_to(user)
        .filter(status=ReportSnapshot.Status.READY)
        .order_by("-period_start", "kind", "scope_label", "pk")
    )


def subscriptions_of(user: User) -> QuerySet[ReportSubscription]:
    return (
        ReportSubscription.objects.filter(user=user)
        .select_related("team")
        .order_by("frequency", "team__name")
    )


def sections_of(snapshot: ReportSnapshot, user: User) -> list[dict[str, Any]]:
    """The stored sections ``user`` may see (``Section.allowed``); a section no longer
    registered is shown to those who see every team only."""
    shown = []
    for stored in snapshot.data.get("sections", []):
        try:
            allowed = base.section(stored["key"]).allowed(user)
        except KeyError:
            allowed = scope_of(user) is Visibility.ALL
        if allowed:
            shown.append(stored)
    return shown


# Subscriptions


def report_subscription_create(*, actor: User, frequency: str, team: Team | None) -> ReportSubscription:
    """Subscribe ``actor`` to the weekly or monthly report of every team within reach or of one
    team (ScopeError when the team is outside it; DomainError when already subscribed)."""
    base.scope_for(actor, team_id=team.pk if team else None)
    with transaction.atomic():
        subscription, created = ReportSubscription.objects.get_or_create(
            user=actor, frequency=frequency, team=team, defaults={"active": True}
        )
        if not created:
            if subscription.active:
                raise DomainError(gettext("You already subscribe to this report."))
            subscription.active = True
            subscription.save(update_fields=["active"])
    return subscription


def report_subscription_delete(*, actor: User, subscription: ReportSubscription) -> None:
    if subscription.user_id != actor.pk:
        raise PermissionError("Only the subscriber ends their subscription here (admins: Django admin)")
    subscription.delete()


# Building a snapshot


def _all_sections() -> list[Section]:
    return base.all_sections()


def _plain(value: Any) -> Any:
    """A JSON-ready cell: numbers stay numbers (Decimal as float), lazy texts become text."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, float, str)):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return str(value)


def _figure_change(value: Any, previous: Any) -> float | None:
    if value is None or previous in (None, 0):
        return None
    return (float(value) - float(previous)) / abs(float(previous))


def section_data(section: Section, scope: Scope, period: Period) -> dict[str, Any]:
    """One section's figures (with the previous period's values) and tables, as plain data."""
    result = section.build(scope, period)
    previous = {figure.key: figure.value for figure in section.build(scope, period.previous()).figures}
    figures = []
    for figure in result.figures:
        value = _plain(figure.value)
        before = _plain(previous.get(figure.key, figure.previous))
        figures.append(
            {
                "key": figure.key,
                "label": str(figure.label),
                "value": value,
                "previous": before,
                "change": _figure_change(value, before),
                "unit": figure.unit,
                "help": str(figure.help),
                "drill_url": figure.drill_url or "",
                "lower_is_better": figure.lower_is_better,
            }
        )
    tables = [
        {
            "key": table.key,
            "title": str(table.title),
            "help": str(table.help),
            "columns": [{"key": c.key, "label": str(c.label), "unit": c.unit} for c in table.columns],
            "rows": [{key: _plain(cell) for key, cell in row.items()} for row in table.rows],
        }
        for table in result.tables
    ]
    data = {"key": section.key, "title": str(section.title), "figures": figures, "tables": tables}
    data["html"] = render_to_string("analytics/report_section.html", {"section": _displayed(data)})
    return data


def snapshot_data(scope: Scope, period: Period, sections: list[Section] | None = None) -> dict[str, Any]:
    """Every section's data for ``scope`` and ``period`` (the section builds aggregate in the
    database: two builds per section, whatever the data size)."""
    sections = _all_sections() if sections is None else sections
    return {
        "period": {"kind": period.kind, "start": period.start.isoformat(), "end": period.end.isoformat()},
        "previous": {"start": period.previous().start.isoformat(), "end": period.previous().end.isoformat()},
        "scope": scope.key,
        "sections": [section_data(section, scope, period) for section in sections],
    }


def snapshot_plan(*, kind: str, period: Period, scope: Scope, built_by: User | None = None) -> ReportSnapshot:
    """The snapshot row of ``kind``, ``period`` and ``scope``, inserted if missing (a concurrent
    planner inserts nothing: unique constraint, ON CONFLICT DO NOTHING)."""
    label = scope_label(scope)[:500]
    with transaction.atomic():
        # A concurrent planner's insert waits for ours to commit, then inserts nothing and finds
        # the row with its teams: nobody can claim (build) a row whose teams are not written yet.
        ReportSnapshot.objects.bulk_create(
            [
                ReportSnapshot(
                    kind=kind,
                    period_start=period.start,
                    period_end=period.end,
                    scope_key=scope.key,
                    scope_all_teams=scope.team_ids is None,
                    scope_owner_id=scope.owner_id,
                    scope_viewer_id=scope.viewer_id,
                    scope_label=label,
                    built_by=built_by,
                )
            ],
            ignore_conflicts=True,
        )
        snapshot = ReportSnapshot.objects.get(kind=kind, period_start=period.start, scope_key=scope.key)
        if scope.team_ids and snapshot.status == ReportSnapshot.Status.PENDING and not snapshot.built_at:
            snapshot.scope_teams.add(*scope.team_ids)  # idempotent (ignores existing rows)
    return snapshot


def snapshot_build(pk: int, *, now: datetime.datetime | None = None) -> bool:
    """Build the snapshot if it is ours to build: pending, or left building past its lease.
    Returns True when this call built it (False: built or being built by someone else)."""
    now = now or timezone.now()
    token = uuid.uuid4()
    deliverable = Q(status=ReportSnapshot.Status.PENDING) | Q(
        status=ReportSnapshot.Status.BUILDING, lease_until__lt=now
    )
    claimed_rows = (
        ReportSnapshot.objects.filter(deliverable, pk=pk)
        .filter(attempts__lt=MAX_BUILD_ATTEMPTS)
        .update(
            status=ReportSnapshot.Status.BUILDING,
            claim_token=token,
            lease_until=now + BUILD_LEASE,
            attempts=F("attempts") + 1,
        )
    )
    if not claimed_rows:
        _give_up_stale_builds(now)
        return False
    snapshot = ReportSnapshot.objects.get(pk=pk)
    language = settings.LANGUAGE_CODE
    try:
        with translation.override(language), timezone.override(timezone.get_default_timezone()):
            data = snapshot_data(snapshot_scope(snapshot), snapshot_period(snapshot))
    except Exception as error:
        logger.exception("Building KPI report %s failed (attempt %d)", pk, snapshot.attempts)
        status = ReportSnapshot.Status.PENDING
        if snapshot.attempts >= MAX_BUILD_ATTEMPTS:
            status = ReportSnapshot.Status.FAILED
        ReportSnapshot.objects.filter(pk=pk, claim_token=token).update(
            status=status, lease_until=None, error=repr(error)[:2000]
        )
        return False
    built = ReportSnapshot.objects.filter(
        pk=pk, claim_token=token, status=ReportSnapshot.Status.BUILDING
    ).update(
        status=ReportSnapshot.Status.READY, data=data, language=language, built_at=timezone.now(), error=""
    )
    return bool(built)


def _give_up_stale_builds(now: datetime.datetime) -> None:
    """Builds whose lease ran out MAX_BUILD_ATTEMPTS times (the worker died each time) fail."""
    failed = ReportSnapshot.objects.filter(
        status=ReportSnapshot.Status.BUILDING, lease_until__lt=now, attempts__gte=MAX_BUILD_ATTEMPTS
    ).update(status=ReportSnapshot.Status.FAILED)
    if failed:
        logger.error("%d KPI reports failed %d times and were given up", failed, MAX_BUILD_ATTEMPTS)


def snapshot_build_by_hand(
    *, actor: User, kind: str, day: datetime.date, team_id: int | None
) -> ReportSnapshot:
    """The report of the complete past period of ``kind`` containing ``day``, within ``actor``'s
    reach (narrowed to one team), built now unless it exists already. Raises ScopeError for a
    team outside their reach and DomainError for a period that is not over yet."""
    if kind not in dict(Frequency.choices):
        raise DomainError(gettext("Choose weekly or monthly."))
    period = base.period_of(kind, day)
    if period.end > timezone.localdate():
        raise DomainError(gettext("This period is not over yet: choose a day of a past week or month."))
    scope = base.scope_for(actor, team_id=team_id)
    snapshot = snapshot_plan(kind=kind, period=period, scope=scope, built_by=actor)
    if snapshot.status == ReportSnapshot.Status.FAILED:
        ReportSnapshot.objects.filter(pk=snapshot.pk, status=ReportSnapshot.Status.FAILED).update(
            status=ReportSnapshot.Status.PENDING, attempts=0
        )
    snapshot_build(snapshot.pk)
    snapshot.refresh_from_db()
    if snapshot.status != ReportSnapshot.Status.READY:
        raise DomainError(gettext("The report could not be built now; please try again in a few minutes."))
    return snapshot


# The sweep


def reports_sweep(
    *, now: datetime.datetime | None = None, time_budget: datetime.timedelta = TIME_BUDGET
) -> SweepResult:
    """Plan, build and deliver the reports of the last complete week and month."""
    now = now or timezone.now()
    deadline = deadline_after(time_budget)
    result = SweepResult()
    today = local_today(now)
    for snapshot, subscriptions in _plan_snapshots(today).values():
        if snapshot.status != ReportSnapshot.Status.READY:
            if snapshot_build(snapshot.pk, now=now):
                result.planned += 1
            snapshot.refresh_from_db(fields=["status"])
        if snapshot.status == ReportSnapshot.Status.READY:
            ReportDelivery.objects.bulk_create(
                [
                    ReportDelivery(
                        snapshot=snapshot, recipient_id=subscription.user_id, subscription=subscription
                    )
                    for subscription in subscriptions
                ],
                ignore_conflicts=True,
            )
    deliver(
        ReportDelivery, _deliver_report, now=now, deadline=deadline, batch_size=DELIVER_BATCH, result=result
    )
    return result


def _plan_snapshots(
    today: datetime.date,
) -> dict[tuple[str, str], tuple[ReportSnapshot, list[ReportSubscription]]]:
    """The snapshot of each (kind, scope) that active subscriptions need now, with their
    subscriptions; a subscription whose team is out of its subscriber's reach now is skipped."""
    planned: dict[tuple[str, str], tuple[ReportSnapshot, list[ReportSubscription]]] = {}
    periods = {kind: last_complete_period(kind, today) for kind in KINDS}
    for subscription in ReportSubscription.objects.active().select_related("user").order_by("pk"):
        try:
            scope = base.scope_for(subscription.user, team_id=subscription.team_id)
        except base.ScopeError:
            logger.warning(
                "Report subscription %s: team out of the subscriber's reach, skipped", subscription.pk
            )
            continue
        key = (subscription.frequency, scope.key)
        if key not in planned:
            period = periods[subscription.frequency]
            planned[key] = (snapshot_plan(kind=subscription.frequency, period=period, scope=scope), [])
        planned[key][1].append(subscription)
    return planned


def _deliver_report(pk: int, token: uuid.UUID, now: datetime.datetime) -> str:
    try:
        return _send_report(pk, token, now)
    except Exception as error:
        # The row stays "sending" until its lease ends, then accounts.outbox retries it.
        ReportDelivery.objects.filter(pk=pk, claim_token=token).update(error=repr(error)[:2000])
        raise


def _send_report(pk: int, token: uuid.UUID, now: datetime.datetime) -> str:
    with transaction.atomic():
        delivery = claimed(ReportDelivery, pk, token).select_related("snapshot", "recipient").first()
        if delivery is None:  # our lease ran out and another run took it over
            return "gone"
        snapshot, recipient = delivery.snapshot, delivery.recipient
        within_reach = snapshots_visible_to(recipient).filter(pk=snapshot.pk).exists()
        if not (recipient.is_active and recipient.email and within_reach):
            mark(ReportDelivery, pk, ReportDelivery.Status.SKIPPED, now)
            return "skipped"
        message = report_email(snapshot, recipient)
        message.send()
        mark(ReportDelivery, pk, ReportDelivery.Status.SENT, now, error="")
        return "sent"


def report_email(snapshot: ReportSnapshot, recipient: User) -> EmailMultiAlternatives:
    """The HTML e-mail of ``snapshot`` for ``recipient``, in their language, with the XLSX."""
    sections = sections_of(snapshot, recipient)
    with notifications.recipient_locale(recipient):
        context = {
            "snapshot": snapshot,
            "sections": [_displayed(section) for section in sections],
            "recipient": recipient,
            "link": notifications.absolute_url(snapshot.get_absolute_url()),
            "subscriptions_link": notifications.absolute_url(reverse("analytics:report-subscriptions")),
            "site_url": settings.SITE_URL,
        }
        subject = " ".join(render_to_string("emails/kpi_report_subject.txt", context).split())
        text = render_to_string("emails/kpi_report_body.txt", context)
        html = render_to_string("emails/kpi_report_body.html", context)
        workbook = snapshot_xlsx(snapshot, sections)
        filename = xlsx_filename(snapshot)
    message = EmailMultiAlternatives(subject, text, to=[recipient.email])
    message.attach_alternative(html, "text/html")
    message.attach(filename, workbook, XLSX_TYPE)
    return message


# Display and the XLSX file


def display(value: Any, unit: str = COUNT) -> str:
    """A value as the reports show it: '—' for nothing, grouped numbers, % and ¥."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return str(value)
    if unit == PERCENT:
        return number_format(float(value) * 100, 1) + "%"
    if unit == MONEY:
        return "¥" + number_format(value, 2, force_grouping=True)
    if unit == HOURS:
        return gettext("%(value)s h") % {"value": number_format(value, 1)}
    if unit == DAYS:
        return gettext("%(value)s d") % {"value": number_format(value, 1)}
    if unit == SCORE:
        return number_format(value, 2)
    if isinstance(value, float) and not value.is_integer():
        return number_format(value, 2, force_grouping=True)
    return number_format(int(value), 0, force_grouping=True)


def display_change(change: float | None) -> str:
    if change is None:
        return "—"
    sign = "+" if change > 0 else ("−" if change < 0 else "±")
    return f"{sign}{number_format(abs(change) * 100, 1)}%"


def _absolute(url: str) -> str:
    return notifications.absolute_url(url) if url else ""


def _displayed(section: dict[str, Any]) -> dict[str, Any]:
    """The template's view of a stored section: values formatted, links absolute (e-mails)."""
    figures = []
    for figure in section["figures"]:
        change = figure["change"]
        worse = change is not None and ((change > 0) == figure["lower_is_better"]) and change != 0
        figures.append(
            figure
            | {
                "shown": display(figure["value"], figure["unit"]),
                "shown_previous": display(figure["previous"], figure["unit"]),
                "shown_change": display_change(change),
                "trend": "" if change in (None, 0) else ("worse" if worse else "better"),
                "link": _absolute(figure["drill_url"]),
            }
        )
    tables = []
    for table in section["tables"]:
        rows = [
            {
                "cells": [display(row.get(column["key"]), column["unit"]) for column in table["columns"]],
                "link": _absolute(row.get("_url") or ""),
            }
            for row in table["rows"]
        ]
        tables.append(table | {"display_rows": rows})
    return section | {"figures": figures, "tables": tables}


def xlsx_filename(snapshot: ReportSnapshot) -> str:
    return f"kpi-{snapshot.kind}-{snapshot.period_start:%Y%m%d}-{snapshot.pk}.xlsx"


_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def _sheet_title(title: str, taken: set[str]) -> str:
    name = _SHEET_FORBIDDEN.sub(" ", title).strip()[:28] or "Sheet"
    candidate, number = name, 2
    while candidate.lower() in taken:
        candidate, number = f"{name[:25]} {number}", number + 1
    taken.add(candidate.lower())
    return candidate


def snapshot_xlsx(snapshot: ReportSnapshot, sections: list[dict[str, Any]]) -> bytes:
    """The stored figures as a workbook: a figures sheet, then one sheet per table."""
    workbook = Workbook()
    sheet = workbook.active
    taken: set[str] = set()
    sheet.title = _sheet_title(gettext("Figures"), taken)
    sheet.append([gettext("Period"), snapshot.period_label, gettext("Scope"), snapshot.scope_label])
    sheet.append(
        [
            gettext("Section"),
            gettext("Figure"),
            gettext("Value"),
            gettext("Previous period"),
            pgettext("period over period", "Change"),
            gettext("Formula"),
        ]
    )
    for section in sections:
        for figure in section["figures"]:
            sheet.append(
                [
                    safe_cell(section["title"]),
                    safe_cell(figure["label"]),
                    figure["value"],
                    figure["previous"],
                    figure["change"],
                    safe_cell(figure["help"]),
                ]
            )
            row = sheet.max_row
            _number_format(sheet.cell(row, 3), figure["unit"])
            _number_format(sheet.cell(row, 4), figure["unit"])
            sheet.cell(row, 5).number_format = "0.0%"
    for index, width in enumerate([18, 28, 14, 14, 10, 60], start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    for section in sections:
        for table in section["tables"]:
            table_sheet = workbook.create_sheet(_sheet_title(f"{section['title']} {table['title']}", taken))
            table_sheet.append([safe_cell(column["label"]) for column in table["columns"]])
            for row in table["rows"]:
                table_sheet.append([safe_cell(row.get(column["key"])) for column in table["columns"]])
                for number, column in enumerate(table["columns"], start=1):
                    _number_format(table_sheet.cell(table_sheet.max_row, number), column["unit"])
            for number, column in enumerate(table["columns"], start=1):
                width = max(10, min(40, len(str(column["label"])) * 2 + 2))
                table_sheet.column_dimensions[get_column_letter(number)].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _number_format(cell, unit: str) -> None:
    if not isinstance(cell.value, (int, float)) or isinstance(cell.value, bool):
        return
    cell.number_format = {PERCENT: "0.0%", MONEY: "#,##0.00", COUNT: "#,##0"}.get(unit, "0.00")
