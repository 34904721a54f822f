"""Merging duplicate customers (重复客户合并), and finding the likely duplicates to merge.

``customer_merge`` is the one write: it keeps the survivor, applies the values chosen on the
side-by-side screen, lets every registered ``customers.hooks.MergeHandler`` move its records, and
leaves the merged customer soft-deleted with ``merged_into`` pointing at the survivor (its old URL
redirects there, ``customers.selectors.customer_merged_target``).

The reads below it (``customer_duplicates``, ``duplicate_pairs``) serve the merge pages only; they
start from ``customers_visible_to`` so a manager never sees a pair outside their scope.
"""

from dataclasses import dataclass, field
from typing import Any, Literal

from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.errors import ConcurrentEditError, DomainError
from customers import hooks
from customers.models import (
    PRIVATE_FIELDS,
    PROFILE_FIELDS,
    Contact,
    Customer,
    CustomerChange,
    StageChange,
    value_class_for,
)
from customers.selectors import customers_visible_to
from customers.services.history import difference, record_change, snapshot
from customers.services.profiles import refresh_keys

Choice = Literal["survivor", "other", "both"]

# The profile fields of the side-by-side screen, in its order; each takes the survivor's or the
# other customer's value.
MERGE_FIELDS = [
    "name",
    "kind",
    *(name for name in PROFILE_FIELDS if name not in {"name", "kind", *PRIVATE_FIELDS}),
    "stage",
    "owner",
]
# Chosen the same way, but shown masked unless customers.privacy.can_see_private_data.
PRIVATE_MERGE_FIELDS = PRIVATE_FIELDS
CHOOSABLE_FIELDS = MERGE_FIELDS + PRIVATE_MERGE_FIELDS
# Free text that may keep both values, the survivor's first.
BOTH_FIELDS = {"notes", "needs"}

# A phone key shorter than this (an extension, a typo) says nothing about being the same customer.
MIN_PHONE_KEY = 6
# A key held by more customers than this (a company switchboard, a shared mailbox, a generic
# name) says nothing about any one pair: the scan leaves it out rather than list its thousands
# of pairs.
MAX_CLUSTER = 20


def _attname(name: str) -> str:
    return Customer._meta.get_field(name).attname


def _is_empty(value: Any) -> bool:
    return value is None or value == ""


def default_choices(survivor: Customer, other: Customer) -> dict[str, Choice]:
    """The survivor's value, or the other's where the survivor has none."""
    choices: dict[str, Choice] = {}
    for name in CHOOSABLE_FIELDS:
        mine, theirs = getattr(survivor, _attname(name)), getattr(other, _attname(name))
        choices[name] = "other" if _is_empty(mine) and not _is_empty(theirs) else "survivor"
    return choices


def _check_choices(choices: dict[str, str]) -> None:
    for name, choice in choices.items():
        if name not in CHOOSABLE_FIELDS:
            raise TypeError(f"Not a field chosen when merging: {name}")
        if choice not in ("survivor", "other", "both") or (choice == "both" and name not in BOTH_FIELDS):
            raise ValueError(f"Not a valid choice for {name}: {choice}")


def _lock(pk: int) -> Customer:
    try:
        return Customer.objects.select_for_update().get(pk=pk)
    except Customer.DoesNotExist:
        raise DomainError(_("This customer no longer exists.")) from None


@transaction.atomic
def customer_merge(
    *,
    actor,
    survivor: Customer,
    merged: Customer,
    choices: dict[str, Choice],
    expected_versions: dict[int, int],
) -> Customer:
    """Merge ``merged`` into ``survivor``; returns the survivor as saved.

    ``choices`` says, per field of CHOOSABLE_FIELDS, whose value the survivor keeps (missing:
    its own); ``expected_versions`` maps each customer's pk to the version the screen showed, so
    a change made meanwhile by someone else is never silently overwritten.
    """
    _check_choices(choices)
    if survivor.pk == merged.pk:
        raise DomainError(_("A customer cannot be merged with itself."))
    # Both rows locked, always in pk order: two merges of the same pair never deadlock.
    locked = {pk: _lock(pk) for pk in sorted([survivor.pk, merged.pk])}
    keep, gone = locked[survivor.pk], locked[merged.pk]
    for customer in (keep, gone):
        if customer.deleted_at is not None or customer.merged_into_id is not None:
            raise DomainError(
                _("%(customer)s was deleted or merged meanwhile.") % {"customer": customer.name}
            )
        if expected_versions.get(customer.pk) != customer.version:
            raise ConcurrentEditError(
                _(
                    "Someone else changed %(customer)s while you were comparing. "
                    "Check the values again and merge."
                )
                % {"customer": customer.name}
            )

    tracked = [*CHOOSABLE_FIELDS, "value_class"]
    before = snapshot(keep, tracked)
    old_owner_id, old_stage = keep.owner_id, keep.stage
    for name in CHOOSABLE_FIELDS:
        choice = choices.get(name, "survivor")
        if choice == "other":
            setattr(keep, _attname(name), getattr(gone, _attname(name)))
        elif choice == "both":
            texts = dict.fromkeys(text.strip() for text in (getattr(keep, name), getattr(gone, name)))
            setattr(keep, name, "\n\n".join(text for text in texts if text))
    now = timezone.now()
    if keep.owner_id != old_owner_id:
        if not keep.owner.is_active:
            raise DomainError(_("%(user)s is not an active user.") % {"user": keep.owner}, field="owner")
        keep.team_id = keep.owner.team_id
    if keep.stage != old_stage:
        keep.stage_changed_at = now
        StageChange.objects.create(
            customer=keep, from_stage=old_stage, to_stage=keep.stage, changed_by=actor, changed_at=now
        )
    if not keep.value_class_overridden:
        keep.value_class = value_class_for(keep.expected_annual_value)
    changed = difference(before, snapshot(keep, tracked))
    keep.version += 1
    keep.updated_at = now
    Customer.objects.filter(pk=keep.pk).update(
        **{_attname(name): getattr(keep, _attname(name)) for name in CHOOSABLE_FIELDS},
        team_id=keep.team_id,
        value_class=keep.value_class,
        stage_changed_at=keep.stage_changed_at,
        version=keep.version,
        updated_at=now,
    )

    # Every handler (ours in customers.merging, and those of the apps above) inside this
    # transaction: one failing rolls the whole merge back.
    handlers = hooks.merge_handlers()
    moved = {handler.name: handler.move(keep, gone, actor) for handler in handlers}
    refresh_keys(keep)  # the contacts that came along are searchable on the survivor
    if keep.owner_id != old_owner_id:
        # The survivor changed hands: what follows its owner (open tasks) moves as in a transfer.
        for transfer in hooks.transfer_handlers():
            transfer([keep.pk], keep.owner, actor)

    Customer.objects.filter(pk=gone.pk).update(
        merged_into=keep, deleted_at=now, deleted_by=actor, version=F("version") + 1, updated_at=now
    )
    moved_text = "、".join(
        f"{handler.label} {moved[handler.name]}" for handler in handlers if moved[handler.name]
    )
    note = _("Merged %(number)s %(name)s into this customer.") % {"number": gone.number, "name": gone.name}
    if moved_text:
        note += " " + _("Moved: %(moved)s.") % {"moved": moved_text}
    record_change(
        customer=keep,
        actor=actor,
        action=CustomerChange.Action.MERGED,
        changes=changed,
        note=note,
    )
    record_change(
        customer=gone,
        actor=actor,
        action=CustomerChange.Action.MERGED,
        changes={"merged_into": ["", str(keep)]},
        note=_("Merged into %(number)s %(name)s.") % {"number": keep.number, "name": keep.name},
    )
    return keep


def related_counts(customer: Customer) -> list[tuple[str, str, int]]:
    """``[(name, label, count), ...]`` of every registered handler, for the merge screen."""
    return [(handler.name, str(handler.label), handler.count(customer)) for handler in hooks.merge_handlers()]


# Reads for the merge pages -------------------------------------------------------------------


def _usable_phone(key: str) -> bool:
    return len(key) >= MIN_PHONE_KEY


def customer_duplicates(user, customer: Customer, *, limit: int = 20) -> list[Customer]:
    """Customers in ``user``'s scope likely to be ``customer`` again (two queries).

    The same name key, or a phone or e-mail key shared between the two customers or their
    contacts. Each result carries ``same_name``, ``same_phone`` and ``same_email``.
    """
    contact_keys = list(Contact.objects.filter(customer=customer).values_list("phone_key", "email_key"))
    phones = {
        key for key in [customer.phone_key, *(phone for phone, _email in contact_keys)] if _usable_phone(key)
    }
    emails = {key for key in [customer.email_key, *(email for _phone, email in contact_keys)] if key}
    same_name = Q(name_key=customer.name_key) if customer.name_key else Q(pk__in=[])
    contact_phone = Contact.objects.filter(customer=OuterRef("pk"), phone_key__in=phones)
    contact_email = Contact.objects.filter(customer=OuterRef("pk"), email_key__in=emails)
    same_phone = Q(phone_key__in=phones) | Q(Exists(contact_phone))
    same_email = Q(email_key__in=emails) | Q(Exists(contact_email))
    if not (customer.name_key or phones or emails):
        return []
    return list(
        customers_visible_to(user)
        .exclude(pk=customer.pk)
        .filter(same_name | same_phone | same_email)
        .annotate(
            same_name=ExpressionWrapper(same_name, output_field=BooleanField()),
            same_phone=ExpressionWrapper(same_phone, output_field=BooleanField()),
            same_email=ExpressionWrapper(same_email, output_field=BooleanField()),
        )
        .select_related("owner")
        .order_by("created_at", "pk")[:limit]
    )


def customer_search(user, text: str, *, exclude: Customer, limit: int = 20) -> list[Customer]:
    """The merge screen's search box: number, name, contact, phone or e-mail, within scope."""
    text = text.strip().casefold()
    if not text:
        return []
    return list(
        customers_visible_to(user)
        .exclude(pk=exclude.pk)
        .filter(search_text__icontains=text)
        .select_related("owner")
        .order_by("-created_at", "-pk")[:limit]
    )


@dataclass
class DuplicatePair:
    left: Customer  # the older of the two (smaller pk)
    right: Customer
    reasons: list[str]  # "name", "phone", "email"


@dataclass
class DuplicatePage:
    pairs: list[DuplicatePair]
    number: int
    total: int
    per_page: int
    num_pages: int = field(init=False)

    def __post_init__(self) -> None:
        self.num_pages = max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.num_pages

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1


# One statement, in three steps:
# 1. ``candidates``: keys held more than once across the whole base (customers and contacts,
#    deleted ones too: a superset). Each is a GROUP BY … HAVING over one indexed key column, which
#    PostgreSQL reads in key order from the index, with no sort and no big hash.
# 2. ``keyed``: the customers in scope (the ORM's scope filter compiled in) holding a candidate key,
#    themselves or through a contact, found through the same indexes: few rows.
# 3. The pairs: a self-join on the key with a < b, so each pair comes once with all its reasons.
#    The total rides along as a window count.
_PAIRS_SQL = """
WITH candidates AS MATERIALIZED (
    SELECT 'name' AS reason, name_key AS key FROM {customer_table}
    WHERE name_key <> '' AND kind = 'enterprise'
    GROUP BY name_key HAVING count(*) BETWEEN 2 AND %(max_cluster)s
    UNION ALL
    SELECT 'phone', key FROM (
        SELECT phone_key AS key FROM {customer_table} WHERE length(phone_key) >= %(min_phone)s
        UNION ALL
        SELECT phone_key FROM {contact_table} WHERE length(phone_key) >= %(min_phone)s
    ) AS phones GROUP BY key HAVING count(*) BETWEEN 2 AND %(max_cluster)s
    UNION ALL
    SELECT 'email', key FROM (
        SELECT email_key AS key FROM {customer_table} WHERE email_key <> ''
        UNION ALL
        SELECT email_key FROM {contact_table} WHERE email_key <> ''
    ) AS emails GROUP BY key HAVING count(*) BETWEEN 2 AND %(max_cluster)s
),
keyed AS MATERIALIZED (
    SELECT DISTINCT customer_id, reason, key FROM (
        SELECT c.id AS customer_id, 'name' AS reason, c.name_key AS key
        FROM ({customers}) AS c(id, name_key, phone_key, email_key)
        WHERE c.name_key IN (SELECT key FROM candidates WHERE reason = 'name')
        UNION ALL
        SELECT c.id, 'phone', c.phone_key
        FROM ({customers}) AS c(id, name_key, phone_key, email_key)
        WHERE c.phone_key IN (SELECT key FROM candidates WHERE reason = 'phone')
        UNION ALL
        SELECT c.id, 'email', c.email_key
        FROM ({customers}) AS c(id, name_key, phone_key, email_key)
        WHERE c.email_key IN (SELECT key FROM candidates WHERE reason = 'email')
        UNION ALL
        SELECT t.customer_id, 'phone', t.phone_key
        FROM ({contacts}) AS t(customer_id, phone_key, email_key)
        WHERE t.phone_key IN (SELECT key FROM candidates WHERE reason = 'phone')
        UNION ALL
        SELECT t.customer_id, 'email', t.email_key
        FROM ({contacts}) AS t(customer_id, phone_key, email_key)
        WHERE t.email_key IN (SELECT key FROM candidates WHERE reason = 'email')
    ) AS found
)
SELECT a.customer_id, b.customer_id, array_agg(DISTINCT a.reason), count(*) OVER ()
FROM keyed a
JOIN keyed b ON a.reason = b.reason AND a.key = b.key AND a.customer_id < b.customer_id
GROUP BY a.customer_id, b.customer_id
ORDER BY b.customer_id DESC, a.customer_id DESC
LIMIT %(limit)s OFFSET %(offset)s
"""


def _scan_keys(user):
    """(pk, name key, phone key, e-mail key) of the customers in scope. Only an enterprise's name
    counts: two people called 张伟 are not likely to be one customer."""
    enterprise_name = Case(
        When(kind=Customer.Kind.ENTERPRISE, then=F("name_key")), default=Value(""), output_field=CharField()
    )
    return (
        customers_visible_to(user)
        .order_by()
        .annotate(scan_name=enterprise_name)
        .values_list("pk", "scan_name", "phone_key", "email_key")
    )


def _pairs_query(user, *, limit: int, offset: int) -> tuple[str, dict[str, Any]]:
    """The statement above, with the scope of ``user`` compiled in by the ORM."""
    customers = _scan_keys(user)
    contacts = (
        Contact.objects.filter(customer__in=customers_visible_to(user).order_by().values("pk"))
        .order_by()
        .values_list("customer_id", "phone_key", "email_key")
    )
    params: dict[str, Any] = {
        "min_phone": MIN_PHONE_KEY,
        "max_cluster": MAX_CLUSTER,
        "limit": limit,
        "offset": offset,
    }
    # The ORM's SQL has positional placeholders; name them so the statement can repeat them.
    parts = {}
    for label, queryset in (("customers", customers), ("contacts", contacts)):
        sql, values = queryset.query.sql_with_params()
        names = [f"{label}_{index}" for index in range(len(values))]
        params.update(zip(names, values, strict=True))
        parts[label] = sql % tuple(f"%({name})s" for name in names)
    sql = _PAIRS_SQL.format(
        customer_table=connection.ops.quote_name(Customer._meta.db_table),
        contact_table=connection.ops.quote_name(Contact._meta.db_table),
        **parts,
    )
    return sql, params


def _pair_rows_portable(user, *, limit: int, offset: int) -> list[tuple[int, int, list[str], int]]:
    """The same pairs, grouped in Python: for the SQLite quick start, whose data set is small."""
    holders: dict[tuple[str, str], set[int]] = {}
    for pk, name, phone, email in _scan_keys(user):
        for reason, key in (("name", name), ("phone", phone), ("email", email)):
            holders.setdefault((reason, key), set()).add(pk)
    contacts = Contact.objects.filter(customer__in=customers_visible_to(user).values("pk"))
    for pk, phone, email in contacts.values_list("customer_id", "phone_key", "email_key"):
        holders.setdefault(("phone", phone), set()).add(pk)
        holders.setdefault(("email", email), set()).add(pk)
    reasons: dict[tuple[int, int], set[str]] = {}
    for (reason, key), pks in holders.items():
        if not key or (reason == "phone" and len(key) < MIN_PHONE_KEY) or not 2 <= len(pks) <= MAX_CLUSTER:
            continue
        ordered = sorted(pks)
        for index, left in enumerate(ordered):
            for right in ordered[index + 1 :]:
                reasons.setdefault((left, right), set()).add(reason)
    pairs = sorted(reasons.items(), key=lambda item: (item[0][1], item[0][0]), reverse=True)
    return [
        (left, right, sorted(found), len(pairs)) for (left, right), found in pairs[offset : offset + limit]
    ]


def _pair_rows(user, *, limit: int, offset: int) -> list[tuple[int, int, list[str], int]]:
    if connection.vendor != "postgresql":
        return _pair_rows_portable(user, limit=limit, offset=offset)
    sql, params = _pairs_query(user, limit=limit, offset=offset)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def duplicate_pairs(user, *, page: int = 1, per_page: int = 50) -> DuplicatePage:
    """One page of likely duplicate pairs within ``user``'s scope, newest pairs first.

    Two queries whatever the page size: the pairs (with the total), then their customers.
    """
    page = max(1, page)
    rows = _pair_rows(user, limit=per_page, offset=(page - 1) * per_page)
    if not rows and page > 1:  # past the end (pairs merged away meanwhile): the first page
        page = 1
        rows = _pair_rows(user, limit=per_page, offset=0)
    ids = {pk for left, right, _reasons, _total in rows for pk in (left, right)}
    customers = Customer.objects.select_related("owner").in_bulk(ids)
    pairs = [
        DuplicatePair(left=customers[left], right=customers[right], reasons=list(reasons))
        for left, right, reasons, _total in rows
    ]
    return DuplicatePage(pairs=pairs, number=page, total=rows[0][3] if rows else 0, per_page=per_page)
