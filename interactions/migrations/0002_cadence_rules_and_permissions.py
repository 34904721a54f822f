"""The cadence rules of SPEC 3 as editable data, and the interaction/task permissions of each role."""

from django.db import migrations

from accounts.roles import grant_permissions

WORK = [
    f"interactions.{verb}_{model}"
    for verb in ("add", "change", "view")
    for model in ("interaction", "followuptask")
]
VIEW = ["interactions.view_interaction", "interactions.view_followuptask"]
GRANTS = {
    "Sales rep": WORK,
    "Sales manager": WORK,
    "Sales director": VIEW,
    "Service agent": VIEW,
    "Administrator": [
        *VIEW,
        *[f"interactions.{verb}_cadencerule" for verb in ("add", "change", "delete", "view")],
    ],
}

# trigger, value, days, task, also
RULES = [
    ("value_class", "A", 7, "A类客户每周跟进", "每月安排一次高层拜访"),
    ("value_class", "B", 14, "B类客户每两周跟进", "每季度做一次需求调研"),
    ("value_class", "C", 30, "C类客户每月跟进", "每半年更新一次客户资料"),
    ("stage", "intent", 3, "需求确认后3天内二次跟进", ""),
    ("stage", "lost", 90, "三个月后回访，了解流失原因", ""),
    ("event", "proposal_sent", 2, "方案已发送，2天内跟进反馈", ""),
]


def forwards(apps, schema_editor):
    CadenceRule = apps.get_model("interactions", "CadenceRule")
    for trigger, value, days, content, note in RULES:
        CadenceRule.objects.get_or_create(
            trigger=trigger, value=value, defaults={"days": days, "task_content": content, "note": note}
        )
    grant_permissions(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [("interactions", "0001_interactions_tasks_cadence"), ("customers", "0006_review_notices")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
