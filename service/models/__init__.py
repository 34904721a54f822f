"""The service app's models, split by sub-domain; import them from here.

- setup: queues, service levels, business hours, resolution categories (admin-editable data);
- tickets: tickets (工单), their events (status changes, assignments, comments) and attachments;
- surveys: satisfaction survey invitations and answers (满意度);
- purchases: purchases entered by hand that schedule an after-sales call;
- alerts: the outbox of service-level breach escalations.
"""

from service.models.alerts import SlaAlert
from service.models.purchases import Purchase
from service.models.setup import BusinessHours, Queue, ResolutionCategory, ServiceLevel
from service.models.surveys import SurveyInvitation
from service.models.tickets import Ticket, TicketAttachment, TicketEvent, TicketQuerySet

__all__ = [
    "BusinessHours",
    "Purchase",
    "Queue",
    "ResolutionCategory",
    "ServiceLevel",
    "SlaAlert",
    "SurveyInvitation",
    "Ticket",
    "TicketAttachment",
    "TicketEvent",
    "TicketQuerySet",
]
