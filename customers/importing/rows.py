"""Turning the cells of one row into customer values, or into the reasons why the row is refused.

Everything a row refers to (industries, sources, tags, the users it may be assigned to) is loaded
once per file into ``Lookups``, so checking 10,000 rows costs a handful of queries. A reason is
stored as a code with its parameters (``{"code": "bad_email", "params": {"value": "x@"}}``) and
put into words when shown, so each reader sees it in their own language.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from openpyxl.utils.datetime import from_excel

from accounts.access import Scope, led_team_ids, scope_of
from accounts.models import User
from customers import normalize
from customers.importing.mapping import FIELDS_BY_KEY, fold
from customers.importing.reading import Cell, to_text
from customers.models import Customer, Industry, Source, Tag

REASONS: dict[str, Promise] = {
    "missing_name": _("The customer name is missing."),
    "missing_phone_email": _("Both phone and e-mail are missing."),
    "bad_email": _("“%(value)s” is not a valid e-mail address."),
    "bad_phone": _("“%(value)s” is not a valid phone number."),
    "bad_website": _("“%(value)s” is not a valid web address."),
    "bad_date": _("%(field)s: “%(value)s” is not a date (write it like 2024-03-01)."),
    "bad_amount": _("%(field)s: “%(value)s” is not an amount (write it like 500000, ¥500,000 or 50万)."),
    "bad_age": _("“%(value)s” is not an age."),
    "too_long": _("%(field)s is longer than %(max)s characters."),
    "unknown_kind": _("Unknown customer type “%(value)s” (use 企业 or 个人, enterprise or individual)."),
    "unknown_industry": _("Unknown industry “%(value)s”."),
    "unknown_source": _("Unknown source “%(value)s”."),
    "unknown_stage": _("Unknown stage “%(value)s”."),
    "unknown_size": _("Unknown company size “%(value)s”."),
    "unknown_revenue": _("Unknown annual revenue “%(value)s”: give an amount such as 3000万 or a band."),
    "unknown_region": _("Unknown region “%(value)s” (use 国内 or 海外)."),
    "unknown_gender": _("Unknown gender “%(value)s”."),
    "unknown_tag": _("Unknown tag “%(value)s”."),
    "unknown_owner": _("“%(value)s” is not a user you may assign customers to."),
    "duplicate_in_file": _("Same %(key)s as line %(line)s of the file."),
    "match": _("Matches the existing customer %(name)s (%(number)s): same %(key)s."),
    "match_outside": _("Matches an existing customer outside your scope."),
    "match_several": _("Matches several existing customers."),
    "same_match_as_line": _("Matches the same existing customer as line %(line)s of the file."),
    "match_locked": _("Matches the existing customer %(name)s (%(number)s), which you may not change."),
}

# The keys a duplicate is found by, as named in the reasons above.
KEY_LABELS: dict[str, Promise] = {"phone": _("phone"), "email": _("e-mail"), "name": _("name")}

# The longest value each text field takes (the model's max_length).
MAX_LENGTHS = {
    "name": 200,
    "contact_name": 100,
    "contact_title": 100,
    "phone": 40,
    "email": 254,
    "province": 40,
    "city": 40,
    "address": 255,
    "website": 200,
    "occupation": 100,
}
# Keys shorter than this match too much to mean anything (an extension, a one-letter name).
MIN_PHONE_DIGITS = 5
MIN_NAME_CHARS = 2

_KIND_WORDS = {
    Customer.Kind.ENTERPRISE: (
        "企业",
        "企业客户",
        "公司",
        "单位",
        "机构",
        "enterprise",
        "company",
        "business",
        "b2b",
    ),
    Customer.Kind.INDIVIDUAL: (
        "个人",
        "个人客户",
        "个体",
        "自然人",
        "individual",
        "person",
        "personal",
        "b2c",
    ),
}
_STAGE_WORDS = {
    Customer.Stage.POTENTIAL: ("潜在客户", "潜在", "潜客", "potential", "prospect", "lead"),
    Customer.Stage.INTENT: ("意向客户", "意向", "intent", "intention", "interested"),
    Customer.Stage.DEAL: ("成交客户", "成交", "已成交", "合作中", "deal", "won", "customer", "active"),
    Customer.Stage.LOST: ("流失客户", "流失", "已流失", "暂停", "lost", "churned", "paused"),
}
_REGION_WORDS = {
    Customer.Region.DOMESTIC: (
        "国内",
        "境内",
        "中国大陆",
        "大陆",
        "中国",
        "domestic",
        "mainland",
        "mainlandchina",
    ),
    Customer.Region.OVERSEAS: (
        "海外",
        "境外",
        "国外",
        "国际",
        "overseas",
        "international",
        "abroad",
        "foreign",
    ),
}
_GENDER_WORDS = {
    Customer.Gender.MALE: ("男", "男性", "先生", "male", "m", "man"),
    Customer.Gender.FEMALE: ("女", "女性", "女士", "female", "f", "woman"),
    Customer.Gender.OTHER: ("其他", "其它", "other"),
}
_SIZE_WORDS = {
    "微型": "1-9",
    "小型": "10-49",
    "中型": "50-199",
    "大型": "200-999",
    "特大型": "1000+",
    "超大型": "1000+",
    "micro": "1-9",
    "small": "10-49",
    "medium": "50-199",
    "large": "200-999",
}


def _words(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    words = {fold(word): value for value, synonyms in table.items() for word in synonyms}
    words.update({fold(value): value for value in table})
    return words


KIND_WORDS = _words(_KIND_WORDS)
STAGE_WORDS = _words(_STAGE_WORDS)
REGION_WORDS = _words(_REGION_WORDS)
GENDER_WORDS = _words(_GENDER_WORDS)

_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[\sT].*)?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DASHES = str.maketrans({"~": "-", "～": "-", "–": "-", "—": "-", "至": "-"})
_TAG_SEPARATORS = re.compile(r"[,，、;；\n]+")
_AMOUNT_NOISE = re.compile(r"(?i)[\s,¥$元]|rmb|cny|人民币")
_MULTIPLIERS = (("百万", 10**6), ("亿", 10**8), ("万", 10**4), ("千", 10**3), ("w", 10**4), ("k", 10**3))
_email = EmailValidator()
_url = URLValidator()


class Problem(Exception):
    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.reason = reason(code, **params)


def reason(code: str, **params: Any) -> dict[str, Any]:
    return {"code": code, "params": params}


def describe(entry: dict[str, Any]) -> str:
    """A stored reason in the reader's language."""
    params = dict(entry.get("params") or {})
    if "field" in params and params["field"] in FIELDS_BY_KEY:
        params["field"] = FIELDS_BY_KEY[params["field"]].label
    if "key" in params:
        params["key"] = KEY_LABELS.get(params["key"], params["key"])
    message = REASONS.get(entry.get("code", ""))
    if message is None:
        return str(entry.get("code", ""))
    return str(message) % params if params else str(message)


@dataclass
class Lookups:
    """Every lookup a row may name, folded for matching; loaded once per file."""

    actor: User
    industries: dict[str, Industry] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)
    tags: dict[str, Tag] = field(default_factory=dict)
    owners: dict[str, User] = field(default_factory=dict)

    @classmethod
    def load(cls, actor: User) -> "Lookups":
        lookups = cls(actor=actor)
        for model, target in ((Industry, lookups.industries), (Source, lookups.sources)):
            # Active entries win over retired ones with the same name.
            for item in model.objects.order_by("active", "-order"):
                for name in (item.name, item.name_en):
                    if name:
                        target[fold(name)] = item
        for tag in Tag.objects.filter(active=True).order_by("-dimension__order", "-order"):
            lookups.tags[fold(tag.name)] = tag
        lookups.owners = _assignable_owners(actor)
        return lookups


def assignable_users(actor: User) -> list[User]:
    """Who an import may make owner: the importer, and for a manager the teams they lead."""
    users = [actor]
    if scope_of(actor) in (Scope.TEAM, Scope.ALL) and (team_ids := led_team_ids(actor)):
        users += list(User.objects.filter(team_id__in=team_ids, is_active=True).exclude(pk=actor.pk))
    return users


def _assignable_owners(actor: User) -> dict[str, User]:
    """Each user by username, and by display or full name when no other user shares it."""
    owners: dict[str, User] = {}
    ambiguous: set[str] = set()
    users = assignable_users(actor)
    for user in users:
        for name in {user.display_name, user.get_full_name(), str(user)}:
            key = fold(name)
            if not key:
                continue
            if key in owners and owners[key] != user:
                ambiguous.add(key)
            owners[key] = user
    for key in ambiguous:
        del owners[key]
    owners.update({fold(user.username): user for user in users})
    return owners


def parse_date(cell: Cell) -> date:
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    text = unicodedata.normalize("NFKC", to_text(cell))
    if match := _DATE.match(text) or _COMPACT_DATE.match(text):
        try:
            return date(*(int(part) for part in match.groups()))
        except ValueError:
            raise Problem("bad_date", value=text) from None
    # Excel stores dates as days since 1900; a cell without date format shows them as a number.
    if text.isdigit() and 1 <= int(text) < 100_000:
        return from_excel(int(text)).date()
    raise Problem("bad_date", value=text)


def parse_amount(cell: Cell) -> Decimal:
    """``50万``, ``¥500,000``, ``500000``, ``1.2亿`` → a Decimal in yuan."""
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        amount = Decimal(str(cell))
    else:
        text = unicodedata.normalize("NFKC", to_text(cell))
        number = _AMOUNT_NOISE.sub("", text).casefold()
        multiplier = 1
        for suffix, factor in _MULTIPLIERS:
            if number.endswith(suffix):
                number, multiplier = number[: -len(suffix)], factor
                break
        try:
            amount = Decimal(number) * multiplier
        except InvalidOperation:
            raise Problem("bad_amount", value=text) from None
    if not amount.is_finite() or amount < 0 or amount >= 10**12:
        raise Problem("bad_amount", value=to_text(cell))
    return amount.quantize(Decimal("0.01"))


def parse_employee_band(text: str) -> str:
    compact = re.sub(r"[\s人名]+", "", unicodedata.normalize("NFKC", text)).translate(_DASHES)
    if compact in Customer.EmployeeBand.values:
        return compact
    folded = fold(text)
    for word, band in _SIZE_WORDS.items():
        if folded.startswith(word):
            return band
    numbers = re.findall(r"\d+", unicodedata.normalize("NFKC", text).replace(",", ""))
    if not numbers:
        raise Problem("unknown_size", value=text)
    count = int(numbers[0]) * (10_000 if "万" in text else 1)
    for limit, band in ((10, "1-9"), (50, "10-49"), (200, "50-199"), (1000, "200-999")):
        if count < limit:
            return band
    return "1000+"


def parse_revenue_band(cell: Cell) -> str:
    """A band's code or label (either language), or an amount (``3000万``, ``¥50,000,000``, ``5亿``)
    that falls in one of the bands of Customer.RevenueBand."""
    text = to_text(cell)
    if text in Customer.RevenueBand.values:
        return text
    folded = fold(text.translate(_DASHES))
    for band in Customer.RevenueBand:
        with translation.override("zh-hans"):
            chinese = fold(str(band.label).translate(_DASHES))
        with translation.override("en"):
            english = fold(str(band.label).translate(_DASHES))
        if folded in (chinese, english):
            return band.value
    try:
        amount = parse_amount(cell)
    except Problem:
        raise Problem("unknown_revenue", value=text) from None
    for limit, band in ((5_000_000, "<5m"), (50_000_000, "5m-50m"), (500_000_000, "50m-500m")):
        if amount < limit:
            return band
    return "500m+"


def _choice(words: dict[str, str], text: str, code: str) -> str:
    value = words.get(fold(text))
    if value is None:
        raise Problem(code, value=text)
    return value


@dataclass
class ParsedRow:
    line: int
    # Customer model fields given by the file (only non-empty cells), ready for the model.
    values: dict[str, Any] = field(default_factory=dict)
    contact: dict[str, str] = field(default_factory=dict)  # name, title
    tags: list[Tag] = field(default_factory=list)
    owner: User | None = None
    reasons: list[dict[str, Any]] = field(default_factory=list)
    # What the preview shows: {field key: text}.
    shown: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.reasons

    @property
    def kind(self) -> str:
        return self.values.get("kind", Customer.Kind.ENTERPRISE)

    def keys(self) -> dict[str, str]:
        """The normalised keys this row is matched by; too short ones are left out."""
        keys = {
            "phone": normalize.phone_key(self.values.get("phone", "")),
            "email": normalize.email_key(self.values.get("email", "")),
            # Two people may share a name; only enterprise names identify a customer.
            "name": normalize.name_key(self.values.get("name", ""))
            if self.kind == Customer.Kind.ENTERPRISE
            else "",
        }
        if len(keys["phone"]) < MIN_PHONE_DIGITS:
            keys["phone"] = ""
        if len(keys["name"]) < MIN_NAME_CHARS:
            keys["name"] = ""
        return {name: key for name, key in keys.items() if key}


def _text_value(key: str, text: str) -> str:
    limit = MAX_LENGTHS.get(key)
    if limit and len(text) > limit:
        raise Problem("too_long", field=key, max=limit)
    return text


def _parse_cell(row: ParsedRow, key: str, cell: Cell, lookups: Lookups) -> None:
    text = to_text(cell)
    if not text:
        return
    shown = text
    if key in ("contact_name", "contact_title"):
        row.contact[key.removeprefix("contact_")] = _text_value(key, text)
    elif key == "kind":
        row.values[key] = _choice(KIND_WORDS, text, "unknown_kind")
        shown = str(Customer.Kind(row.values[key]).label)
    elif key == "stage":
        row.values[key] = _choice(STAGE_WORDS, text, "unknown_stage")
        shown = str(Customer.Stage(row.values[key]).label)
    elif key == "region":
        row.values[key] = _choice(REGION_WORDS, text, "unknown_region")
        shown = str(Customer.Region(row.values[key]).label)
    elif key == "gender":
        row.values[key] = _choice(GENDER_WORDS, text, "unknown_gender")
        shown = str(Customer.Gender(row.values[key]).label)
    elif key == "employee_band":
        row.values[key] = parse_employee_band(text)
        shown = str(Customer.EmployeeBand(row.values[key]).label)
    elif key == "revenue_band":
        row.values[key] = parse_revenue_band(cell)
        shown = str(Customer.RevenueBand(row.values[key]).label)
    elif key in ("industry", "source"):
        item = getattr(lookups, "industries" if key == "industry" else "sources").get(fold(text))
        if item is None:
            raise Problem(f"unknown_{key}", value=text)
        row.values[key], shown = item, str(item)
    elif key in ("first_contact_date", "birthday"):
        try:
            row.values[key] = parse_date(cell)
        except Problem as problem:
            problem.reason["params"]["field"] = key
            raise
        shown = row.values[key].isoformat()
    elif key == "expected_annual_value":
        try:
            row.values[key] = parse_amount(cell)
        except Problem as problem:
            problem.reason["params"]["field"] = key
            raise
        shown = f"¥{row.values[key]:,.0f}"
    elif key == "age":
        digits = unicodedata.normalize("NFKC", text).removesuffix("岁").removesuffix(".0").strip()
        if not digits.isdigit() or not 0 < int(digits) < 150:
            raise Problem("bad_age", value=text)
        row.values[key] = int(digits)
    elif key == "email":
        try:
            _email(text)
        except ValidationError:
            raise Problem("bad_email", value=text) from None
        row.values[key] = _text_value(key, text)
    elif key == "phone":
        if len(normalize.phone_key(text)) < MIN_PHONE_DIGITS:
            raise Problem("bad_phone", value=text)
        row.values[key] = _text_value(key, text)
    elif key == "website":
        address = text if "://" in text else f"http://{text}"
        try:
            _url(address)
        except ValidationError:
            raise Problem("bad_website", value=text) from None
        row.values[key] = shown = _text_value(key, address)
    elif key == "tags":
        names = [name.strip() for name in _TAG_SEPARATORS.split(text) if name.strip()]
        unknown = [name for name in names if fold(name) not in lookups.tags]
        if unknown:
            raise Problem("unknown_tag", value="、".join(unknown))
        row.tags = list({lookups.tags[fold(name)].pk: lookups.tags[fold(name)] for name in names}.values())
        shown = "、".join(tag.name for tag in row.tags)
    elif key == "owner":
        owner = lookups.owners.get(fold(text))
        if owner is None:
            raise Problem("unknown_owner", value=text)
        row.owner, shown = owner, str(owner)
    else:  # plain text: name, needs, province, city, address, notes, occupation
        row.values[key] = _text_value(key, text)
    row.shown[key] = shown


def parse_row(line: int, cells: list[Cell], fields: list[str], lookups: Lookups) -> ParsedRow:
    """``fields`` holds the customer field of each column (``""`` for an ignored column)."""
    row = ParsedRow(line=line)
    for index, key in enumerate(fields):
        if not key:
            continue
        try:
            _parse_cell(row, key, cells[index] if index < len(cells) else None, lookups)
        except Problem as problem:
            row.reasons.append(problem.reason)
    if "kind" not in row.values and _looks_individual(row):
        row.values["kind"] = Customer.Kind.INDIVIDUAL
    if not row.values.get("name"):
        row.reasons.insert(0, reason("missing_name"))
    if not any(
        to_text(cells[index])
        for index, key in enumerate(fields)
        if key in ("phone", "email") and index < len(cells)
    ):
        row.reasons.append(reason("missing_phone_email"))
    return row


def _looks_individual(row: ParsedRow) -> bool:
    """A row without a type but with only personal details is an individual customer."""
    personal = {"gender", "birthday", "age", "occupation"} & row.values.keys()
    business = {"industry", "employee_band", "revenue_band"} & row.values.keys()
    return bool(personal) and not business and not row.contact
