"""The Celery application and its one static beat schedule.

The database holds the state of every reminder and report; Celery only delivers. Each beat entry
below is a sweep that looks at the database and is safe to run twice or late.
"""

import os

from celery import Celery

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
    # Exported files hold customer data: delete those older than EXPORT_RETENTION_DAYS, daily.
    "delete-expired-exports": {"task": "accounts.tasks.delete_expired_exports", "schedule": 24 * 3600.0},
}
