"""The Celery application and its one static beat schedule.

The database holds the state of every reminder and report; Celery only delivers. Each beat entry
below is a sweep that looks at the database and is safe to run twice or late.
"""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_site.settings")

app = Celery("crm_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    # Proves to /healthz that beat schedules and a worker executes; read by accounts.health.
    "worker-heartbeat": {"task": "accounts.tasks.record_heartbeat", "schedule": 30.0},
    # Profile review (建档审核): flags profiles still incomplete CUSTOMER_REVIEW_HOURS after creation
    # and mails each team lead one digest; a flag is a conditional update, so a rerun sends nothing.
    "flag-incomplete-profiles": {
        "task": "customers.tasks.review.flag_incomplete_profiles",
        "schedule": 15 * 60.0,
    },
    # Exports whose message was lost (broker down) or whose worker died are sent again; a row is
    # claimed with a conditional update before it is built, so a second delivery builds nothing.
    "requeue-stalled-exports": {"task": "accounts.tasks.requeue_stalled_exports", "schedule": 60.0},
    # Follow-up reminders (due tomorrow, overdue, escalation steps): plans outbox rows from the
    # tasks' state and delivers them exactly once, so missed ticks (worker or Redis down) catch up.
    "send-task-reminders": {"task": "interactions.tasks.reminders.send_task_reminders", "schedule": 5 * 60.0},
    # Team leads' daily digest of overdue tasks, from REMINDER_DIGEST_HOUR (local time) on; one per
    # lead and local day (unique row), so the later ticks of the day send nothing or catch up.
    "send-lead-digests": {"task": "interactions.tasks.reminders.send_lead_digests", "schedule": 15 * 60.0},
    # Care tasks (关怀): birthday and holiday care tasks from today to their lead time ahead. One
    # unique care_key per occasion, so the hourly rerun creates nothing twice and a late run catches up.
    "create-care-tasks": {"task": "interactions.tasks.care.create_care_tasks", "schedule": 60 * 60.0},
    # Exported files hold customer data: delete those older than EXPORT_RETENTION_DAYS, daily.
    "delete-expired-exports": {"task": "accounts.tasks.delete_expired_exports", "schedule": 24 * 3600.0},
    # Stale-deal alerts: opportunities over their stage's expected days or with an overdue next step,
    # to the owner and past DEAL_ALERT_LEAD_AFTER_DAYS the team lead; one unique row per alert.
    "send-deal-alerts": {"task": "opportunities.tasks.alerts.send_deal_alerts", "schedule": 60 * 60.0},
    # 回款预警: overdue instalments to the order's owner and past PAYMENT_WARNING_LEAD_AFTER_DAYS the
    # team lead; one unique row per instalment, due date and recipient.
    "send-payment-warnings": {
        "task": "opportunities.tasks.alerts.send_payment_warnings",
        "schedule": 60 * 60.0,
    },
    # Service levels (工单时效): flags tickets past their first-response or resolution due time,
    # tells the assignee and escalates to the service manager, and warns SLA_WARNING_MINUTES
    # before; one unique row per ticket, target, step, due time and recipient.
    "send-sla-alerts": {"task": "service.tasks.sla.send_sla_alerts", "schedule": 5 * 60.0},
    # Satisfaction surveys (满意度): mails invitations still pending (a ticket's whose message was
    # lost, quarterly batches left over); each is claimed under a row lock and marked sent once.
    "send-survey-invitations": {
        "task": "service.tasks.surveys.send_survey_invitations",
        "schedule": 15 * 60.0,
    },
    # The quarterly satisfaction survey of deal customers, daily at 10:00 local time: invites those
    # not yet invited this quarter (unique customer and period, so it acts once per quarter).
    "send-quarterly-surveys": {
        "task": "service.tasks.surveys.send_quarterly_surveys",
        "schedule": crontab(hour=10, minute=0),
    },
    # Scheduled KPI reports (SPEC 7): last week's and last month's report of each subscribed scope,
    # built once (unique snapshot per period and scope, claimed before building) and e-mailed once
    # per subscriber (unique delivery row); a failed e-mail is retried by a later tick.
    "send-kpi-reports": {"task": "analytics.tasks.send_kpi_reports", "schedule": 15 * 60.0},
    # Sent quotes past their validity become expired, at 01:00 local time (CELERY_TIMEZONE); one
    # conditional UPDATE, so a missed day is caught up by the next run.
    "expire-quotes": {
        "task": "opportunities.tasks.quotes.expire_quotes",
        "schedule": crontab(hour=1, minute=0),
    },
}
