"""Task reminders (outbox), lead digests and the escalation steps, with the default steps:
day 3 the owner, day 5 the owner and the team lead, day 7 the lead and a flag for reassignment."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from accounts.roles import grant_permissions

DEFAULT_STEPS = [
    {"days_overdue": 3, "notify_owner": True, "notify_lead": False, "flag_for_reassignment": False},
    {"days_overdue": 5, "notify_owner": True, "notify_lead": True, "flag_for_reassignment": False},
    {"days_overdue": 7, "notify_owner": False, "notify_lead": True, "flag_for_reassignment": True},
]


# Administrators edit the steps and look up the outboxes (read-only in admin).
GRANTS = {
    "Administrator": [
        *[f"interactions.{verb}_escalationstep" for verb in ("add", "change", "delete", "view")],
        "interactions.view_taskreminder",
        "interactions.view_leaddigest",
    ],
}


def add_steps(apps, schema_editor) -> None:
    EscalationStep = apps.get_model("interactions", "EscalationStep")
    for step in DEFAULT_STEPS:
        EscalationStep.objects.get_or_create(days_overdue=step["days_overdue"], defaults=step)
    grant_permissions(apps, GRANTS)


def remove_steps(apps, schema_editor) -> None:
    EscalationStep = apps.get_model("interactions", "EscalationStep")
    EscalationStep.objects.filter(days_overdue__in=[step["days_overdue"] for step in DEFAULT_STEPS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("interactions", "0003_task_flags_and_holidays"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="EscalationStep",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("days_overdue", models.PositiveSmallIntegerField(unique=True, verbose_name="days overdue")),
                ("notify_owner", models.BooleanField(default=True, verbose_name="remind the owner")),
                ("notify_lead", models.BooleanField(default=False, verbose_name="tell the team lead")),
                (
                    "flag_for_reassignment",
                    models.BooleanField(default=False, verbose_name="flag for reassignment"),
                ),
                ("active", models.BooleanField(default=True, verbose_name="active")),
            ],
            options={
                "verbose_name": "escalation step",
                "verbose_name_plural": "escalation steps",
                "ordering": ["days_overdue"],
            },
        ),
        migrations.CreateModel(
            name="LeadDigest",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField(verbose_name="day")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Waiting"),
                            ("sending", "Sending"),
                            ("sent", "Sent"),
                            ("skipped", "Skipped"),
                            ("failed", "Failed"),
                        ],
                        default="pending",
                        max_length=10,
                        verbose_name="status",
                    ),
                ),
                ("claim_token", models.UUIDField(blank=True, editable=False, null=True)),
                ("lease_until", models.DateTimeField(blank=True, null=True)),
                ("attempts", models.PositiveSmallIntegerField(default=0)),
                ("task_count", models.PositiveIntegerField(default=0, verbose_name="overdue tasks")),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="planned"),
                ),
                ("sent_at", models.DateTimeField(blank=True, null=True, verbose_name="sent")),
                (
                    "lead",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="team lead",
                    ),
                ),
            ],
            options={
                "verbose_name": "lead digest",
                "verbose_name_plural": "lead digests",
                "ordering": ["-day", "lead"],
                "indexes": [
                    models.Index(
                        condition=models.Q(("status__in", ["pending", "sending"])),
                        fields=["lease_until", "id"],
                        name="lead_digest_to_deliver",
                    )
                ],
                "constraints": [models.UniqueConstraint(fields=("lead", "day"), name="lead_digest_once")],
            },
        ),
        migrations.CreateModel(
            name="TaskReminder",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("step", models.CharField(max_length=20, verbose_name="step")),
                ("task_due_at", models.DateTimeField(verbose_name="task due")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Waiting"),
                            ("sending", "Sending"),
                            ("sent", "Sent"),
                            ("skipped", "Skipped"),
                            ("failed", "Failed"),
                        ],
                        default="pending",
                        max_length=10,
                        verbose_name="status",
                    ),
                ),
                ("claim_token", models.UUIDField(blank=True, editable=False, null=True)),
                ("lease_until", models.DateTimeField(blank=True, null=True)),
                ("attempts", models.PositiveSmallIntegerField(default=0)),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="planned"),
                ),
                ("sent_at", models.DateTimeField(blank=True, null=True, verbose_name="sent")),
                (
                    "recipient",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="recipient",
                    ),
                ),
                (
                    "task",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="reminders",
                        to="interactions.followuptask",
                        verbose_name="follow-up task",
                    ),
                ),
            ],
            options={
                "verbose_name": "task reminder",
                "verbose_name_plural": "task reminders",
                "indexes": [
                    models.Index(
                        condition=models.Q(("status__in", ["pending", "sending"])),
                        fields=["lease_until", "id"],
                        name="task_reminder_to_deliver",
                    )
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("task", "step", "task_due_at", "recipient"), name="task_reminder_once"
                    )
                ],
            },
        ),
        migrations.RunPython(add_steps, remove_steps),
    ]
