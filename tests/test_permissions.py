"""The permission matrix: every URL of the project, for every persona, with the expected status.

URLs are collected from the resolver, so a new URL without an entry here fails
``test_every_url_has_an_entry``. The records belong to ``rep`` of team A: other teams get 404
(never 403 or 200: a record outside one's scope does not exist), people who may see a record but
not act on it get 403, anonymous visitors are sent to the login page. Django admin has its own
permission system and is tested in tests/accounts/test_admin.py.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.models import Export
from analytics.models import ReportSnapshot, ReportSubscription
from customers.models import CustomerImport
from service.services.surveys import survey_for_closed_ticket
from tests.factories.customers import AttachmentFactory, ContactFactory, CustomerFactory, SegmentFactory
from tests.factories.interactions import InteractionFactory, TaskFactory
from tests.factories.notifications import NotificationFactory
from tests.factories.opportunities import OpportunityFactory
from tests.factories.orders import OrderFactory, PaymentFactory, accepted_quote, plan, settle
from tests.factories.quotes import ProductFactory, quote_with_lines
from tests.factories.service import TicketAttachmentFactory, TicketFactory

PERSONAS = [
    "anonymous",
    "rep",
    "teammate",
    "lead",
    "other_team_rep",
    "other_lead",
    "director",
    "agent",
    "administrator",
]
OK = "ok"  # any success: 200, 302 to a page, a download, or 400 for an empty form that re-displays
LOGIN = "login"  # 302 to the login page


def _statuses(default: str | int, **overrides: str | int) -> dict[str, str | int]:
    return {persona: overrides.get(persona, default) for persona in PERSONAS} | {"anonymous": LOGIN}


# Who sees rep's customer: rep (owner), lead (team lead), director and administrator (all).
SEES = {"rep": OK, "lead": OK, "director": OK, "administrator": OK}
PUBLIC_TO_STAFF = _statuses(OK)
VIEW = _statuses(404, **SEES)
CHANGE = _statuses(404, **SEES | {"director": 403, "administrator": 403})
MANAGE = _statuses(404, **SEES | {"rep": 403, "director": 403, "administrator": 403})
PERSONAL_DATA = _statuses(404, **SEES | {"rep": 403, "director": 403})
OWN_ONLY = _statuses(404, rep=OK)


def page(allowed: set[str], denied: int = 403) -> dict[str, str | int]:
    """A page without a record: the personas in ``allowed`` open it, the others get ``denied``."""
    return _statuses(denied, **dict.fromkeys(allowed, OK))


SALES = {"rep", "teammate", "lead", "other_team_rep", "other_lead"}
MANAGERS = {"lead", "other_lead"}


@dataclass
class Entry:
    expected: dict[str, str | int]
    kwargs: Callable[[dict], dict] = lambda world: {}
    method: str = "get"
    data: dict = field(default_factory=dict)


def quote(world: dict) -> dict:
    return {"pk": world["quote"].pk}


def customer(world: dict) -> dict:
    return {"pk": world["customer"].pk}


# A ticket on rep's customer held by ``agent``: the customer's owner and the lead of the
# customer's team, the assignee and all-scope roles see it; only agents work on it.
TICKET_VIEW = _statuses(404, rep=OK, lead=OK, director=OK, agent=OK, administrator=OK)
TICKET_CHANGE = _statuses(404, rep=403, lead=403, director=403, agent=OK, administrator=403)


# A report snapshot of rep's team: whoever's reach covers the team sees it.
REPORT = _statuses(404, lead=OK, director=OK, administrator=OK)
SUBSCRIBERS = page({"lead", "other_lead", "director"})


def ticket(world: dict) -> dict:
    return {"pk": world["ticket"].pk}


MATRIX: dict[str, Entry] = {
    # accounts
    "home": Entry(PUBLIC_TO_STAFF),
    "accounts:preferences": Entry(PUBLIC_TO_STAFF),
    "accounts:export-list": Entry(PUBLIC_TO_STAFF),
    "accounts:export-detail": Entry(OWN_ONLY, lambda world: {"pk": world["export"].pk}),
    "accounts:export-download": Entry(OWN_ONLY, lambda world: {"pk": world["export"].pk}),
    "accounts:notification-list": Entry(PUBLIC_TO_STAFF),
    "accounts:notification-read-all": Entry(PUBLIC_TO_STAFF, method="post"),
    "accounts:notification-open": Entry(
        OWN_ONLY, lambda world: {"pk": world["notification"].pk}, method="post"
    ),
    "accounts:notification-read": Entry(
        OWN_ONLY, lambda world: {"pk": world["notification"].pk}, method="post"
    ),
    # interactions and follow-up tasks
    "interactions:interaction-log": Entry(CHANGE, lambda world: {"customer_pk": world["customer"].pk}),
    "interactions:task-create": Entry(CHANGE, lambda world: {"customer_pk": world["customer"].pk}),
    "interactions:quick-log": Entry(page(SALES)),
    "interactions:customer-search": Entry(page(SALES)),
    "interactions:interaction-list": Entry(page(SALES | {"director", "agent", "administrator"})),
    "interactions:interaction-export": Entry(page(SALES | {"director", "administrator"}), method="post"),
    "interactions:task-list": Entry(page(SALES | {"director", "agent", "administrator"})),
    "interactions:task-export": Entry(page(SALES | {"director", "administrator"}), method="post"),
    "interactions:interaction-detail": Entry(VIEW, lambda world: {"pk": world["interaction"].pk}),
    "interactions:task-detail": Entry(VIEW, lambda world: {"pk": world["task"].pk}),
    "interactions:task-edit": Entry(CHANGE, lambda world: {"pk": world["task"].pk}),
    "interactions:task-done": Entry(CHANGE, lambda world: {"pk": world["task"].pk}, method="post"),
    "interactions:task-cancel": Entry(CHANGE, lambda world: {"pk": world["task"].pk}, method="post"),
    "interactions:task-reschedule": Entry(CHANGE, lambda world: {"pk": world["task"].pk}, method="post"),
    "interactions:team": Entry(page(MANAGERS | {"director", "administrator"})),
    "interactions:team-task-reassign": Entry(MANAGE, lambda world: {"pk": world["task"].pk}, method="post"),
    "interactions:team-customer-reassign": Entry(
        MANAGE, lambda world: {"pk": world["customer"].pk}, method="post"
    ),
    "interactions:calendar": Entry(page(SALES | {"director", "agent", "administrator"})),
    "opportunities:opportunity-list": Entry(page(SALES | {"director", "administrator"})),
    "opportunities:opportunity-board": Entry(page(SALES | {"director", "administrator"})),
    "opportunities:opportunity-export": Entry(page(SALES | {"director", "administrator"}), method="post"),
    "opportunities:opportunity-create": Entry(page(SALES)),
    "opportunities:opportunity-detail": Entry(VIEW, lambda world: {"pk": world["opportunity"].pk}),
    "opportunities:opportunity-edit": Entry(CHANGE, lambda world: {"pk": world["opportunity"].pk}),
    "opportunities:opportunity-move": Entry(CHANGE, lambda world: {"pk": world["opportunity"].pk}),
    "opportunities:quote-list": Entry(page(SALES | {"director", "administrator"})),
    "opportunities:quote-create": Entry(CHANGE, lambda world: {"pk": world["opportunity"].pk}),
    "opportunities:quote-detail": Entry(VIEW, quote),
    "opportunities:quote-print": Entry(VIEW, quote),
    "opportunities:quote-edit": Entry(CHANGE, quote),
    "opportunities:quote-send": Entry(CHANGE, quote, method="post"),
    "opportunities:quote-accept": Entry(CHANGE, quote, method="post"),
    "opportunities:quote-reject": Entry(CHANGE, quote, method="post"),
    "opportunities:quote-new-version": Entry(CHANGE, quote, method="post"),
    "opportunities:product-list": Entry(page(SALES | {"director", "administrator"})),
    "opportunities:product-create": Entry(page(MANAGERS | {"administrator"})),
    "opportunities:product-edit": Entry(
        page(MANAGERS | {"administrator"}), lambda world: {"pk": world["product"].pk}
    ),
    "opportunities:product-active": Entry(
        page(MANAGERS | {"administrator"}), lambda world: {"pk": world["product"].pk}, method="post"
    ),
    "opportunities:order-list": Entry(page(SALES | {"director", "administrator"})),
    "opportunities:order-export": Entry(page(SALES | {"director", "administrator"}), method="post"),
    "opportunities:order-create": Entry(CHANGE, lambda world: {"quote_pk": world["accepted_quote"].pk}),
    "opportunities:order-detail": Entry(VIEW, lambda world: {"pk": world["order"].pk}),
    "opportunities:order-plan": Entry(CHANGE, lambda world: {"pk": world["order"].pk}),
    "opportunities:order-cancel": Entry(CHANGE, lambda world: {"pk": world["order"].pk}),
    "opportunities:payment-create": Entry(CHANGE, lambda world: {"pk": world["order"].pk}),
    "opportunities:payment-void": Entry(MANAGE, lambda world: {"pk": world["payment"].pk}),
    # service: tickets and the service desk
    "service:desk": Entry(PUBLIC_TO_STAFF),
    "service:desk-export": Entry(PUBLIC_TO_STAFF, method="post"),
    "service:ticket-create": Entry(page(SALES | {"agent"})),
    "service:ticket-detail": Entry(TICKET_VIEW, ticket),
    "service:ticket-attachment": Entry(
        TICKET_VIEW, lambda world: {"pk": world["ticket"].pk, "attachment_pk": world["ticket_attachment"].pk}
    ),
    "service:ticket-edit": Entry(TICKET_CHANGE, ticket),
    "service:ticket-comment": Entry(TICKET_CHANGE, ticket, method="post"),
    "service:ticket-assign": Entry(TICKET_CHANGE, ticket, method="post"),
    "service:ticket-resolve": Entry(TICKET_CHANGE, ticket, method="post"),
    "service:ticket-status": Entry(
        TICKET_CHANGE, lambda world: {"pk": world["ticket"].pk, "action": "start"}, method="post"
    ),
    "service:sla-overview": Entry(page({"administrator"})),
    # service: satisfaction surveys and purchases
    "service:survey-list": Entry(page({"agent", "director", "administrator"})),
    "service:survey-resend": Entry(
        _statuses(404, rep=403, lead=403, director=403, administrator=403),
        lambda world: {"pk": world["surveyed_ticket"].pk},
        method="post",
    ),
    "service:purchase-create": Entry(
        _statuses(404, rep=403, lead=403, director=403, administrator=403),
        lambda world: {"customer_pk": world["customer"].pk},
    ),
    # analytics: dashboards, section reports and their downloads
    "analytics:dashboard": Entry(PUBLIC_TO_STAFF),
    "analytics:section": Entry(page(SALES | {"director", "administrator"}), lambda world: {"key": "funnel"}),
    "analytics:section-export": Entry(
        page(SALES | {"director", "administrator"}), lambda world: {"key": "funnel", "table": "funnel"}
    ),
    # analytics: scheduled KPI reports (subscribers: sales managers, directors, service managers)
    "analytics:report-archive": Entry(PUBLIC_TO_STAFF),
    "analytics:report-detail": Entry(REPORT, lambda world: {"pk": world["snapshot"].pk}),
    "analytics:report-xlsx": Entry(REPORT, lambda world: {"pk": world["snapshot"].pk}),
    "analytics:report-subscriptions": Entry(SUBSCRIBERS),
    "analytics:report-build": Entry(SUBSCRIBERS, method="post"),  # an empty form: 400 counts as OK
    "analytics:report-subscription-delete": Entry(
        _statuses(403, lead=OK, other_lead=404, director=404),
        lambda world: {"pk": world["subscription"].pk},
        method="post",
    ),
    # customers: lists and pages without a record
    "customers:customer-list": Entry(page(SALES | {"director", "agent", "administrator"})),
    "customers:customer-create": Entry(page(SALES)),
    "customers:customer-duplicates": Entry(page(SALES)),
    "customers:customer-bulk": Entry(page(SALES | {"director", "agent", "administrator"}), method="post"),
    "customers:customer-export": Entry(page(SALES | {"director", "administrator"}), method="post"),
    "customers:segment-create": Entry(page(SALES | {"director", "agent", "administrator"}), method="post"),
    "customers:import-list": Entry(page(SALES)),
    "customers:import-create": Entry(page(SALES)),
    "customers:import-template": Entry(page(SALES), lambda world: {"fmt": "csv"}),
    "customers:dedupe-scan": Entry(page(MANAGERS)),
    "customers:review-list": Entry(page(MANAGERS)),
    "customers:recycle-bin": Entry(page(MANAGERS | {"administrator"})),
    # customers: one of rep's records
    "customers:customer-detail": Entry(VIEW, customer),
    "customers:customer-history": Entry(VIEW, customer),
    "customers:attachment-download": Entry(
        VIEW, lambda world: {"pk": world["customer"].pk, "attachment_pk": world["attachment"].pk}
    ),
    "customers:customer-edit": Entry(CHANGE, customer),
    "customers:customer-stage": Entry(CHANGE, customer, method="post", data={"stage": "intent"}),
    "customers:customer-tags": Entry(CHANGE, customer),
    "customers:contact-create": Entry(CHANGE, customer),
    "customers:contact-edit": Entry(
        CHANGE, lambda world: {"pk": world["customer"].pk, "contact_pk": world["contact"].pk}
    ),
    "customers:contact-delete": Entry(
        CHANGE, lambda world: {"pk": world["customer"].pk, "contact_pk": world["contact"].pk}, method="post"
    ),
    "customers:attachment-upload": Entry(CHANGE, customer),
    "customers:attachment-delete": Entry(
        CHANGE,
        lambda world: {"pk": world["customer"].pk, "attachment_pk": world["attachment"].pk},
        method="post",
    ),
    "customers:customer-value-class": Entry(MANAGE, customer),
    "customers:customer-merge": Entry(MANAGE, customer),
    "customers:customer-merge-compare": Entry(
        MANAGE, lambda world: {"pk": world["customer"].pk, "other_pk": world["second"].pk}
    ),
    "customers:customer-transfer": Entry(MANAGE, customer),
    "customers:customer-review": Entry(
        MANAGE, customer, method="post", data={"decision": "return", "note": "补充"}
    ),
    "customers:customer-delete": Entry(MANAGE, customer, method="post"),
    "customers:customer-personal-data": Entry(PERSONAL_DATA, customer),
    "customers:customer-erase": Entry(PERSONAL_DATA, customer, method="post"),
    "customers:customer-restore": Entry(
        _statuses(404, lead=OK, administrator=OK, rep=403, director=403),
        lambda world: {"pk": world["deleted"].pk},
        method="post",
    ),
    "customers:customer-purge": Entry(
        _statuses(404, administrator=OK, rep=403, lead=403, director=403),
        lambda world: {"pk": world["deleted"].pk},
        method="post",
    ),
    "customers:segment-delete": Entry(OWN_ONLY, lambda world: {"pk": world["segment"].pk}, method="post"),
    "customers:import-detail": Entry(OWN_ONLY, lambda world: {"pk": world["import"].pk}),
    "customers:import-commit": Entry(OWN_ONLY, lambda world: {"pk": world["import"].pk}, method="post"),
    "customers:import-errors": Entry(OWN_ONLY, lambda world: {"pk": world["import"].pk, "fmt": "csv"}),
}

# Public or authentication machinery: reachable without login, tested in tests/accounts/.
UNSCOPED = {
    "healthz",
    # The public satisfaction survey (a token, no login): tests/service/test_surveys*.py.
    "service:survey-answer",
    "login",
    "logout",
    "accounts:set-language",
    "password_change",
    "password_change_done",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
}


def url_names(patterns=None, namespace: str = "") -> set[str]:
    names = set()
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            names |= url_names(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(namespace + pattern.name)
    return names


def test_every_url_has_an_entry():
    missing = url_names() - set(MATRIX) - UNSCOPED
    assert not missing, f"add these URLs to the permission matrix: {sorted(missing)}"
    assert not set(MATRIX) - url_names(), "the matrix names URLs that no longer exist"


@pytest.fixture
def world(
    rep, teammate, lead, other_team_rep, other_lead, director, agent, administrator, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    record = CustomerFactory(owner=rep, name="矩阵测试客户")
    deleted = CustomerFactory(owner=rep, deleted_at=timezone.now(), deleted_by=lead)
    export = Export.objects.create(user=rep, kind="customers", params={}, format="csv", status="done")
    export.file.save("export.csv", __import__("io").BytesIO(b"a,b\n"), save=True)
    opportunity = OpportunityFactory(customer=record)
    order = OrderFactory(opportunity=opportunity)
    plan(order, (10, "100000"))
    payment = PaymentFactory(order=order, amount="100")
    settle(order)
    service_ticket = TicketFactory(customer=record, assignee=agent)
    snapshot = ReportSnapshot.objects.create(
        kind="week",
        period_start=datetime.date(2026, 3, 30),
        period_end=datetime.date(2026, 4, 6),
        scope_key=f"teams:{rep.team_id}",
        status="ready",
        data={"sections": []},
        built_at=timezone.now(),
    )
    snapshot.scope_teams.add(rep.team_id)
    surveyed_ticket = TicketFactory(customer=record, status="closed")
    survey_for_closed_ticket(surveyed_ticket, actor=rep)
    return {
        "ticket": service_ticket,
        "snapshot": snapshot,
        "subscription": ReportSubscription.objects.create(user=lead, frequency="week"),
        "surveyed_ticket": surveyed_ticket,
        "ticket_attachment": TicketAttachmentFactory(ticket=service_ticket),
        "customer": record,
        "second": CustomerFactory(owner=rep),
        "deleted": deleted,
        "contact": ContactFactory(customer=record, is_primary=False),
        "attachment": AttachmentFactory(customer=record),
        "segment": SegmentFactory(owner=rep),
        "import": CustomerImport.objects.create(
            created_by=rep, original_name="a.csv", file_format="csv", status=CustomerImport.Status.CHECKED
        ),
        "export": export,
        "interaction": InteractionFactory(customer=record),
        "task": TaskFactory(customer=record),
        "notification": NotificationFactory(recipient=rep),
        "opportunity": opportunity,
        "quote": quote_with_lines(opportunity=opportunity),
        "accepted_quote": accepted_quote(opportunity),
        "product": ProductFactory(),
        "order": order,
        "payment": payment,
        "users": {
            "rep": rep,
            "teammate": teammate,
            "lead": lead,
            "other_team_rep": other_team_rep,
            "other_lead": other_lead,
            "director": director,
            "agent": agent,
            "administrator": administrator,
        },
    }


CASES = [(name, persona) for name in sorted(MATRIX) for persona in PERSONAS]


@pytest.mark.parametrize(("url_name", "persona"), CASES)
def test_permission_matrix(client, world, url_name, persona, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    entry = MATRIX[url_name]
    expected = entry.expected[persona]
    if persona != "anonymous":
        client.force_login(world["users"][persona])
    url = reverse(url_name, kwargs=entry.kwargs(world))
    response = getattr(client, entry.method)(url, entry.data)
    if expected == LOGIN:
        assert response.status_code == 302 and reverse("login") in response["Location"], response.status_code
    elif expected == OK:
        assert response.status_code in {200, 302, 400}, response.status_code
        if response.status_code == 302:
            assert reverse("login") not in response["Location"]
    else:
        assert response.status_code == expected
