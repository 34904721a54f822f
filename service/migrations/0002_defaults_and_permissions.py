"""The default queues, service levels, business hours and resolution categories, and who may do
what with tickets. Idempotent (get_or_create, ``add()``), so tests can replay it.

Service levels (SPEC 5: "e.g. respond within 2 hours"): urgent 2 h / 8 h around the clock; high
4 h / 24 h; normal 8 h / 3 days and low 24 h / 5 days in business hours (Monday to Friday,
09:00–12:00 and 13:30–18:00). Complaints are answered faster: urgent 1 h, high 2 h.
"""

import datetime

from django.db import migrations

from accounts.roles import grant_permissions

QUEUES = [
    ("request", "服务请求队列"),
    ("complaint", "投诉处理队列"),
    ("after_sales", "售后服务队列"),
    ("consultation", "咨询队列"),
]
# priority, type ("" = any), first response minutes, resolution minutes, business hours only
LEVELS = [
    (4, "", 120, 8 * 60, False),
    (3, "", 4 * 60, 24 * 60, False),
    (2, "", 8 * 60, 3 * 24 * 60, True),
    (1, "", 24 * 60, 5 * 24 * 60, True),
    (4, "complaint", 60, 4 * 60, False),
    (3, "complaint", 120, 12 * 60, False),
]
HOURS = [(day, datetime.time(9), datetime.time(12)) for day in range(5)] + [
    (day, datetime.time(13, 30), datetime.time(18)) for day in range(5)
]
CATEGORIES = [
    ("远程指导解决", "Solved remotely"),
    ("上门服务解决", "Solved on site"),
    ("更换或维修", "Replaced or repaired"),
    ("退款或补偿", "Refund or compensation"),
    ("产品缺陷已转研发", "Product defect passed to engineering"),
    ("咨询已答复", "Question answered"),
    ("无需处理", "No action needed"),
]


def _perms(verbs, model):
    return [f"service.{verb}_{model}" for verb in verbs]


AGENT = [
    *_perms(["add", "change", "view"], "ticket"),
    *_perms(["add", "view"], "ticketattachment"),
    *_perms(["add", "view"], "purchase"),
    *_perms(["view"], "surveyinvitation"),
]
GRANTS = {
    "Service agent": AGENT,
    "Service manager": [
        *AGENT,
        "accounts.scope_team",
        "accounts.view_user",
        "accounts.view_team",
        *_perms(["delete"], "ticket"),
        *_perms(["add", "change", "view"], "queue"),
        *_perms(["add", "change", "view"], "servicelevel"),
        *_perms(["add", "change", "view"], "businesshours"),
        *_perms(["add", "change", "view"], "resolutioncategory"),
    ],
    # Sales open tickets for their customers and follow them; managers too for their teams.
    "Sales rep": [*_perms(["add", "view"], "ticket"), *_perms(["add", "view"], "ticketattachment")],
    "Sales manager": [*_perms(["add", "view"], "ticket"), *_perms(["add", "view"], "ticketattachment")],
    "Sales director": [*_perms(["view"], "ticket"), *_perms(["view"], "surveyinvitation")],
    "Administrator": [
        *_perms(["view"], "ticket"),
        *_perms(["view"], "surveyinvitation"),
        *_perms(["add", "change", "view"], "queue"),
        *_perms(["add", "change", "view"], "servicelevel"),
        *_perms(["add", "change", "view"], "businesshours"),
        *_perms(["add", "change", "view"], "resolutioncategory"),
    ],
}


def forwards(apps, schema_editor):
    Queue = apps.get_model("service", "Queue")
    ServiceLevel = apps.get_model("service", "ServiceLevel")
    BusinessHours = apps.get_model("service", "BusinessHours")
    ResolutionCategory = apps.get_model("service", "ResolutionCategory")
    for ticket_type, name in QUEUES:
        Queue.objects.get_or_create(ticket_type=ticket_type, defaults={"name": name})
    for priority, ticket_type, response, resolution, business in LEVELS:
        ServiceLevel.objects.get_or_create(
            priority=priority,
            ticket_type=ticket_type,
            defaults={
                "first_response_minutes": response,
                "resolution_minutes": resolution,
                "business_hours": business,
            },
        )
    if not BusinessHours.objects.exists():
        for weekday, opens, closes in HOURS:
            BusinessHours.objects.create(weekday=weekday, opens=opens, closes=closes)
    for order, (name, name_en) in enumerate(CATEGORIES, start=1):
        ResolutionCategory.objects.get_or_create(
            name=name, defaults={"name_en": name_en, "order": order * 10}
        )
    grant_permissions(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("service", "0001_tickets_slas_surveys"),
        ("accounts", "0002_roles"),
        ("customers", "0001_initial"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
