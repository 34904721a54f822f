"""Import tasks: check a big uploaded file, and write a committed import in batches.

Both are thin: they call customers.services.imports, whose functions are safe to run twice.
"""

import logging

from celery import shared_task
from django.db import OperationalError
from django.utils.translation import gettext as _

from accounts.errors import DomainError
from customers.services.imports import import_check, import_fail, import_run

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def check_customer_import(import_id: int) -> None:
    """Read a file too big to check in the upload request and list its problems."""
    try:
        import_check(import_id, background=True)
    except DomainError as error:
        import_fail(import_id, error.message)
    except Exception:
        logger.exception("Checking customer import %s failed", import_id)
        import_fail(import_id, _("An unexpected error stopped the import."))


@shared_task(bind=True, ignore_result=True, max_retries=3)
def run_customer_import(self, import_id: int) -> None:
    """Safe to run twice: it resumes after the last finished batch (see ``import_run``).

    A lost database connection is retried a few times; any other error stops the import as
    ``failed`` with the reason, and the user may resume it from its page.
    """
    try:
        import_run(import_id)
    except OperationalError as error:
        if self.request.retries < self.max_retries:
            raise self.retry(exc=error, countdown=10 * 2**self.request.retries) from error
        logger.exception("Customer import %s failed", import_id)
        import_fail(import_id, _("The database could not be reached. Resume the import later."))
    except DomainError as error:
        import_fail(import_id, error.message)
    except Exception:
        logger.exception("Customer import %s failed", import_id)
        import_fail(import_id, _("An unexpected error stopped the import."))
