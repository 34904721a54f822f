"""Proposing the next follow-up after an interaction, from the admin-editable cadence rules."""

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.utils import timezone

from customers.models import Customer
from interactions.models import CadenceRule

# Proposed tasks fall due at this local time of their day: the start of a working morning.
DUE_TIME = time(10, 0)


@dataclass(frozen=True)
class Proposal:
    due_at: datetime
    content: str
    note: str
    rule: CadenceRule | None


def _rules() -> dict[tuple[str, str], CadenceRule]:
    return {(rule.trigger, rule.value): rule for rule in CadenceRule.objects.filter(active=True)}


def cadence_rule_for(customer: Customer, *, proposal_sent: bool = False, became_intent: bool = False):
    """The most specific active rule: a proposal sent, then the need just confirmed (the customer
    became an intent customer with this interaction), then a lost customer, then the value class."""
    rules = _rules()
    candidates = []
    if proposal_sent:
        candidates.append((CadenceRule.Trigger.EVENT, "proposal_sent"))
    if became_intent:
        candidates.append((CadenceRule.Trigger.STAGE, Customer.Stage.INTENT))
    if customer.stage == Customer.Stage.LOST:
        candidates.append((CadenceRule.Trigger.STAGE, Customer.Stage.LOST))
    candidates.append((CadenceRule.Trigger.VALUE_CLASS, customer.value_class))
    return next((rules[key] for key in candidates if key in rules), None)


def propose_next(
    customer: Customer,
    *,
    after: datetime | None = None,
    proposal_sent: bool = False,
    became_intent: bool = False,
) -> Proposal | None:
    """The next follow-up to propose after an interaction at ``after`` (default: now), due at
    ``DUE_TIME`` local time on the rule's day; None when no rule applies (all switched off)."""
    rule = cadence_rule_for(customer, proposal_sent=proposal_sent, became_intent=became_intent)
    if rule is None:
        return None
    day = timezone.localtime(after or timezone.now()).date() + timedelta(days=rule.days)
    due_at = timezone.make_aware(datetime.combine(day, DUE_TIME))
    return Proposal(due_at=due_at, content=rule.task_content, note=rule.note, rule=rule)
