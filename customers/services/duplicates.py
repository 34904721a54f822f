"""Likely duplicates of a customer being typed (SPEC 2: 重复客户), for the create and edit forms.

A match shares a normalised key (customers.normalize) with what was typed: the phone or e-mail of
a customer or of one of its contacts, or the name key (full-width/half-width, case, punctuation
and legal-form suffixes such as 有限公司 folded away). Only live customers count.

The user sees the matches in their scope, each with the reasons; matches outside their scope are
only counted, never named, so the warning cannot be used to find out who else is a customer.

Two indexed queries: the contacts with the phone or e-mail key (skipped when neither is given),
then the customers with any of the keys, visible ones first.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import BooleanField, Case, Q, Value, When
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.access import Scope, scope_of
from customers import normalize
from customers.models import Contact, Customer

# How many visible matches the warning lists; more are summarised as "and N more".
SHOWN = 10
# A bound on the rows one check reads, so a key shared by thousands of rows stays cheap.
CANDIDATES = 200
# Keys shorter than this match too much to mean anything (an extension, a one-letter name).
MIN_PHONE_DIGITS = 6
MIN_NAME_CHARS = 2

REASONS: dict[str, Promise] = {
    "phone": _("same phone"),
    "email": _("same e-mail"),
    "name": _("near-identical name"),
    "contact_phone": _("same phone as one of its contacts"),
    "contact_email": _("same e-mail as one of its contacts"),
}


@dataclass(frozen=True)
class DuplicateMatch:
    customer: Customer
    reasons: tuple[str, ...]

    @property
    def reason_labels(self) -> list[Promise]:
        return [REASONS[reason] for reason in self.reasons]


@dataclass(frozen=True)
class DuplicateResult:
    matches: list[DuplicateMatch] = field(default_factory=list)
    # Visible matches beyond the SHOWN listed ones.
    more_visible: int = 0
    # Matches outside the user's scope: counted, never named.
    hidden_count: int = 0

    def __bool__(self) -> bool:
        return bool(self.matches or self.hidden_count)


@dataclass(frozen=True)
class _Keys:
    name: str
    phones: frozenset[str]
    emails: frozenset[str]

    def __bool__(self) -> bool:
        return bool(self.name or self.phones or self.emails)


def _keys(name: str, phones: Iterable[str], emails: Iterable[str]) -> _Keys:
    name_key = normalize.name_key(name)
    phone_keys = {normalize.phone_key(phone) for phone in phones}
    email_keys = {normalize.email_key(email) for email in emails}
    return _Keys(
        name=name_key if len(name_key) >= MIN_NAME_CHARS else "",
        phones=frozenset(key for key in phone_keys if len(key) >= MIN_PHONE_DIGITS),
        emails=frozenset(key for key in email_keys if "@" in key),
    )


def find_duplicates(
    *,
    user,
    name: str = "",
    phone: str = "",
    email: str = "",
    contact_phones: Iterable[str] = (),
    contact_emails: Iterable[str] = (),
    exclude_pk: int | None = None,
) -> DuplicateResult:
    """Live customers sharing a phone, e-mail or name key with what was typed, split by scope.

    ``contact_phones`` and ``contact_emails`` are those of the contacts typed on the same form:
    a new enterprise whose buyer is already a customer's contact is likely a duplicate too.
    """
    keys = _keys(name, [phone, *contact_phones], [email, *contact_emails])
    if not keys:
        return DuplicateResult()

    # Which customers have a contact with the phone or e-mail, and which key matched.
    contact_reasons: dict[int, set[str]] = {}
    contact_q = Q()
    if keys.phones:
        contact_q |= Q(phone_key__in=keys.phones)
    if keys.emails:
        contact_q |= Q(email_key__in=keys.emails)
    if contact_q:
        for customer_id, phone_key, email_key in Contact.objects.filter(contact_q).values_list(
            "customer_id", "phone_key", "email_key"
        )[:CANDIDATES]:
            reasons = contact_reasons.setdefault(customer_id, set())
            if phone_key in keys.phones:
                reasons.add("contact_phone")
            if email_key in keys.emails:
                reasons.add("contact_email")

    # Each branch is served by its own index; PostgreSQL combines them with a bitmap OR.
    match_q = Q()
    if keys.name:
        match_q |= Q(name_key=keys.name)
    if keys.phones:
        match_q |= Q(phone_key__in=keys.phones)
    if keys.emails:
        match_q |= Q(email_key__in=keys.emails)
    if contact_reasons:
        match_q |= Q(pk__in=list(contact_reasons))

    scope_q = Customer.objects.scope_q(user)
    if scope_of(user) is Scope.ALL:
        visible = Value(True)
    else:
        visible = Case(When(scope_q, then=Value(True)), default=Value(False), output_field=BooleanField())
    candidates = (
        Customer.objects.alive()
        .filter(match_q)
        .annotate(visible=visible)
        .select_related("owner")
        .only(
            "pk",
            "number",
            "name",
            "kind",
            "phone",
            "email",
            "name_key",
            "phone_key",
            "email_key",
            "stage",
            "value_class",
            "owner__username",
            "owner__display_name",
            "owner__first_name",
            "owner__last_name",
        )
        .order_by("-visible", "-created_at", "-pk")
    )
    if exclude_pk is not None:
        candidates = candidates.exclude(pk=exclude_pk)

    matches: list[DuplicateMatch] = []
    visible_count = hidden_count = 0
    for customer in candidates[:CANDIDATES]:
        if not customer.visible:
            hidden_count += 1
            continue
        visible_count += 1
        if len(matches) < SHOWN:
            matches.append(DuplicateMatch(customer, _reasons(customer, keys, contact_reasons)))
    return DuplicateResult(
        matches=matches, more_visible=visible_count - len(matches), hidden_count=hidden_count
    )


def _reasons(customer: Customer, keys: _Keys, contact_reasons: dict[int, set[str]]) -> tuple[str, ...]:
    found = set(contact_reasons.get(customer.pk, ()))
    if customer.phone_key in keys.phones:
        found.add("phone")
    if customer.email_key in keys.emails:
        found.add("email")
    if keys.name and customer.name_key == keys.name:
        found.add("name")
    # The customer's own phone or e-mail says more than a contact's: list it alone.
    if "phone" in found:
        found.discard("contact_phone")
    if "email" in found:
        found.discard("contact_email")
    return tuple(reason for reason in REASONS if reason in found)
