"""Forms of the order pages: create from a quote (with its payment plan), edit the plan, record
and void a payment, cancel an order.

The payment plan is a formset of instalments. Without JavaScript, "Split" re-displays the plan
cut into N equal instalments (the last takes the cents left over) and a few empty rows are
always offered for more; rows left empty are ignored, and a row marked "remove" is dropped.
"""

from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from django import forms
from django.forms import formset_factory
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.templatetags.crm import money
from opportunities.models import CENT, Instalment, Order, Payment, Quote
from opportunities.services.orders import PlannedInstalment, plan_difference_message

# Empty rows offered under the plan (no JavaScript needed to add instalments).
EXTRA_ROWS = 2
MAX_INSTALMENTS = 60
# The default plan: everything due this many days after signing; a split spaces them monthly.
FIRST_DUE_DAYS = 30
SPLIT_INTERVAL_DAYS = 30


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _money_input() -> forms.NumberInput:
    return forms.NumberInput(attrs={"step": "0.01", "min": "0", "inputmode": "decimal"})


class InstalmentForm(forms.Form):
    id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    due_date = forms.DateField(label=_("Due date"), required=False, widget=_date_input())
    amount = forms.DecimalField(
        label=_("Amount"),
        required=False,
        max_digits=16,
        decimal_places=2,
        min_value=Decimal("0.01"),
        widget=_money_input(),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=200)

    def clean(self):
        data = super().clean()
        if self.cleaned_data.get("DELETE") or not self.has_content(data):
            return data
        if data.get("due_date") is None and "due_date" not in self.errors:
            self.add_error("due_date", _("Give the due date."))
        if data.get("amount") is None and "amount" not in self.errors:
            self.add_error("amount", _("Give the amount."))
        return data

    @staticmethod
    def has_content(data: dict) -> bool:
        return any(data.get(name) not in (None, "") for name in ("due_date", "amount", "note"))


class BasePlanFormSet(forms.BaseFormSet):
    def planned(self) -> list[PlannedInstalment]:
        """The rows that hold an instalment (not empty, not removed), as the service takes them."""
        lines = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", {})
            if not data or data.get("DELETE") or not InstalmentForm.has_content(data):
                continue
            lines.append(
                PlannedInstalment(
                    due_date=data["due_date"],
                    amount=data["amount"],
                    note=data.get("note", ""),
                    pk=data.get("id"),
                )
            )
        return lines

    def total(self) -> Decimal:
        return sum((line.amount for line in self.planned()), Decimal(0))


PlanFormSet = formset_factory(
    InstalmentForm,
    formset=BasePlanFormSet,
    extra=EXTRA_ROWS,
    can_delete=True,
    max_num=MAX_INSTALMENTS,
    validate_max=True,
)


def split_plan(amount: Decimal, count: int, first_due: date) -> list[dict]:
    """``count`` equal instalments of ``amount`` (to the cent, the last one takes the rest),
    the first due on ``first_due`` and then every SPLIT_INTERVAL_DAYS days."""
    count = max(1, min(count, MAX_INSTALMENTS))
    share = (amount / count).quantize(CENT, rounding=ROUND_DOWN)
    rows = []
    for index in range(count):
        part = share if index < count - 1 else amount - share * (count - 1)
        rows.append({"due_date": first_due + timedelta(days=SPLIT_INTERVAL_DAYS * index), "amount": part})
    return rows


class _PlanMixin:
    """A form with a payment plan (``self.plan``) that must add up to an amount."""

    plan: BasePlanFormSet

    def check_plan(self, amount: Decimal | None, currency: str) -> bool:
        if not self.plan.is_valid():
            return False
        if not self.plan.planned():
            self.add_error(None, _("The payment plan needs at least one instalment."))
            return False
        if amount is not None and self.plan.total() != amount:
            self.add_error(None, plan_difference_message(amount, self.plan.total(), currency))
            return False
        return True


class OrderCreateForm(_PlanMixin, forms.Form):
    """An order from an accepted quote: defaults from the quote, the plan one instalment due 30
    days after signing. "Split into N" (``action=split``) redraws the plan without saving."""

    title = forms.CharField(label=pgettext_lazy("document title", "Title"), max_length=200)
    signed_on = forms.DateField(label=_("Signing date"), widget=_date_input())
    amount = forms.DecimalField(
        label=_("Contract amount"),
        max_digits=16,
        decimal_places=2,
        min_value=Decimal("0.01"),
        widget=_money_input(),
    )
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    split_count = forms.IntegerField(
        label=_("Split into"),
        required=False,
        min_value=1,
        max_value=MAX_INSTALMENTS,
        initial=2,
        widget=forms.NumberInput(attrs={"min": "1", "max": str(MAX_INSTALMENTS)}),
    )

    def __init__(self, data=None, *, quote: Quote, initial: dict | None = None, plan_initial=None) -> None:
        self.quote = quote
        today = timezone.localdate()
        defaults = {"title": quote.title, "signed_on": today, "amount": quote.total, "split_count": 2}
        super().__init__(data, initial=defaults | (initial or {}))
        if plan_initial is None:
            plan_initial = [{"due_date": today + timedelta(days=FIRST_DUE_DAYS), "amount": quote.total}]
        self.plan = PlanFormSet(data, prefix="plan", initial=None if data is not None else plan_initial)

    @classmethod
    def split(cls, data, *, quote: Quote) -> "OrderCreateForm":
        """The form again, unsaved, with what was typed above the plan kept and the plan cut into
        the asked number of equal instalments (the no-JavaScript "Split" button)."""
        typed = cls(data, quote=quote)
        typed.is_valid()
        cleaned = getattr(typed, "cleaned_data", {})
        amount = cleaned.get("amount")
        if amount is None:
            typed.add_error("amount", _("Enter the contract amount first."))
            return typed
        signed_on = cleaned.get("signed_on") or timezone.localdate()
        count = cleaned.get("split_count") or 1
        kept = {name: data.get(name) for name in ("title", "signed_on", "amount", "notes", "split_count")}
        rows = split_plan(amount, count, signed_on + timedelta(days=FIRST_DUE_DAYS))
        return cls(quote=quote, initial=kept, plan_initial=rows)

    def is_valid(self) -> bool:
        valid = super().is_valid()
        return self.check_plan(self.cleaned_data.get("amount"), self.quote.currency) and valid


class PlanEditForm(_PlanMixin, forms.Form):
    """The plan of an order being collected, read at ``version`` (optimistic locking)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, data=None, *, order: Order, instalments: list[Instalment], **kwargs) -> None:
        self.order = order
        super().__init__(data, initial={"version": order.version}, **kwargs)
        initial = [
            {"id": item.pk, "due_date": item.due_date, "amount": item.amount, "note": item.note}
            for item in instalments
        ]
        self.plan = PlanFormSet(data, prefix="plan", initial=None if data else initial)
        self.paid_by_id = {item.pk: item.paid_amount for item in instalments}

    def is_valid(self) -> bool:
        valid = super().is_valid()
        return self.check_plan(self.order.amount, self.order.currency) and valid


class PaymentForm(forms.ModelForm):
    """A payment received: at most what is outstanding (checked again under lock)."""

    class Meta:
        model = Payment
        fields = ["received_on", "amount", "method", "reference", "note"]
        widgets = {"received_on": _date_input(), "amount": _money_input()}
        # "Method" alone is an interaction's (call, visit…) in the catalogue.
        labels = {"method": pgettext_lazy("payment", "Method")}

    def __init__(self, *args, order: Order, suggested: Decimal | None = None, **kwargs) -> None:
        self.order = order
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("received_on", timezone.localdate())
        if suggested:
            kwargs["initial"].setdefault("amount", suggested)
        super().__init__(*args, **kwargs)
        self.fields["amount"].help_text = _("Outstanding: %(amount)s") % {
            "amount": money(order.outstanding, order.currency)
        }

    def clean_received_on(self) -> date:
        value = self.cleaned_data["received_on"]
        if value > timezone.localdate():
            raise forms.ValidationError(_("A payment cannot be received in the future."))
        return value

    def clean_amount(self) -> Decimal:
        value = self.cleaned_data["amount"]
        if value > self.order.outstanding:
            raise forms.ValidationError(
                _("At most %(outstanding)s is outstanding on this order.")
                % {"outstanding": money(self.order.outstanding, self.order.currency)}
            )
        return value


class ReasonForm(forms.Form):
    """Why an order is cancelled or a payment voided (kept with the record)."""

    reason = forms.CharField(label=_("Reason"), max_length=200, widget=forms.Textarea(attrs={"rows": 2}))
