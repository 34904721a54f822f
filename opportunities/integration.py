"""How opportunities join the customers app's workflows (customers.hooks): the customer timeline,
merging two customers, transferring customers to a new owner, and erasing personal data."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.templatetags.crm import money, yuan
from customers import hooks
from customers.models import Customer
from customers.services.privacy import SCRUBBED, plain_record
from opportunities.models import Instalment, Opportunity, Order, Payment, StageChange


def timeline_entries(customer: Customer, user, limit: int) -> list[hooks.TimelineEntry]:
    """The customer's newest stage changes (wins stand out), in one query. Whoever sees the
    customer sees its opportunities (collaborators are in the opportunities' scope too)."""
    entries = []
    changes = (
        StageChange.objects.filter(opportunity__customer=customer)
        .select_related("opportunity", "from_stage", "to_stage", "changed_by")
        .order_by("-changed_at", "-pk")[:limit]
    )
    for change in changes:
        opportunity = change.opportunity
        values = {"name": opportunity.name, "stage": change.to_stage}
        if change.to_stage.is_won:
            title, icon = _("Opportunity won: %(name)s") % values, "trophy"
        elif change.to_stage.is_lost:
            title, icon = _("Opportunity lost: %(name)s") % values, "x-octagon"
        elif change.from_stage is None:
            title, icon = _("Opportunity opened: %(name)s (%(stage)s)") % values, "briefcase"
        else:
            title, icon = _("Opportunity moved to %(stage)s: %(name)s") % values, "arrow-right-square"
        body = money(change.amount, change.currency)
        if change.currency != "CNY":
            body += f" ({yuan(change.amount_cny)})"
        entries.append(
            hooks.TimelineEntry(
                at=change.changed_at,
                kind="opportunity",
                icon=icon,
                title=title,
                body=body,
                url=opportunity.get_absolute_url(),
                actor=str(change.changed_by or ""),
            )
        )
    return entries


def move_opportunities(survivor: Customer, merged: Customer, actor) -> int:
    return Opportunity.objects.filter(customer=merged).update(customer=survivor)


def count_opportunities(customer: Customer) -> int:
    return Opportunity.objects.filter(customer=customer).count()


def move_orders(survivor: Customer, merged: Customer, actor) -> int:
    """Orders keep a copy of their opportunity's customer (for the customer's totals): they
    follow the opportunities to the survivor."""
    return Order.objects.filter(customer=merged).update(customer=survivor)


def count_orders(customer: Customer) -> int:
    return Order.objects.filter(customer=customer).count()


def transfer_open_opportunities(customer_ids: list[int], new_owner, actor) -> None:
    """Open opportunities follow their customer to the new owner (and team); closed ones keep
    who won or lost them."""
    Opportunity.objects.filter(customer_id__in=customer_ids, closed_at__isnull=True).exclude(
        owner=new_owner
    ).update(owner=new_owner, team_id=new_owner.team_id)
    # Someone must go on collecting: orders in force follow too; completed or cancelled ones keep
    # who signed them.
    Order.objects.filter(customer_id__in=customer_ids, status=Order.Status.ACTIVE).exclude(
        owner=new_owner
    ).update(owner=new_owner, team_id=new_owner.team_id)


def erase_texts(customer: Customer, actor) -> int:
    """PIPL erasure: notes and next steps may name people; numbers, amounts and stages stay."""
    return Opportunity.objects.filter(customer=customer).update(
        notes=SCRUBBED, lost_note="", next_step=SCRUBBED
    )


def erase_order_texts(customer: Customer, actor) -> int:
    """PIPL erasure: order notes, instalment notes and payment notes and references (a payer's
    name, an account) may name people; numbers, dates and amounts stay for the books."""
    orders = Order.objects.filter(customer=customer)
    changed = orders.update(notes=SCRUBBED)
    Instalment.objects.filter(order__in=orders).exclude(note="").update(note="")
    changed += Payment.objects.filter(order__in=orders).update(note="", reference="", void_reason="")
    return changed


def personal_data_orders(customer: Customer) -> list[dict]:
    """The customer's orders with their payment plans and payments."""
    records = []
    orders = (
        Order.objects.filter(customer=customer)
        .select_related("opportunity", "quote", "owner", "team", "created_by")
        .prefetch_related("instalments", "payments__recorded_by")
        .order_by("signed_on", "pk")
    )
    for order in orders:
        record = plain_record(order, exclude={"id", "customer", "version"})
        record["instalments"] = [
            plain_record(instalment, exclude={"id", "order"}) for instalment in order.instalments.all()
        ]
        record["payments"] = [
            plain_record(payment, exclude={"id", "order"}) for payment in order.payments.all()
        ]
        records.append(record)
    return records


def personal_data_opportunities(customer: Customer) -> list[dict]:
    return [
        plain_record(opportunity, exclude={"id", "customer", "version"})
        for opportunity in Opportunity.objects.filter(customer=customer)
        .select_related("owner", "team", "stage", "source", "lost_reason", "created_by")
        .order_by("created_at", "pk")
    ]


def register() -> None:
    hooks.register_timeline("opportunities", timeline_entries)
    hooks.register_merge(
        hooks.MergeHandler(
            "opportunities", gettext_lazy("Opportunities"), move_opportunities, count_opportunities
        )
    )
    hooks.register_transfer("opportunities", transfer_open_opportunities)
    hooks.register_erase("opportunities", erase_texts)
    hooks.register_personal_data("opportunities", personal_data_opportunities)
    hooks.register_merge(
        hooks.MergeHandler("orders", gettext_lazy("Orders / contracts"), move_orders, count_orders)
    )
    hooks.register_erase("orders", erase_order_texts)
    hooks.register_personal_data("orders", personal_data_orders)
