"""Normalised keys for duplicate detection and search (SPEC 2: 重复客户).

Two customers are likely duplicates when they share a phone (``+86 138-0013-8000`` and
``13800138000`` are the same), an e-mail (case-insensitive) or a near-identical name: the same
after full-width/half-width folding, case folding, and without punctuation, spaces or a legal-form
suffix such as 有限公司 / 有限责任公司 / 股份有限公司 / 公司 / Co., Ltd.
"""

import re
import unicodedata

# Longest first, so 股份有限公司 is removed whole rather than leaving 股份.
_LEGAL_SUFFIXES = sorted(
    [
        "股份有限公司",
        "有限责任公司",
        "有限公司",
        "集团公司",
        "分公司",
        "公司",
        "集团",
        "coltd",
        "companylimited",
        "limited",
        "ltd",
        "inc",
        "corp",
        "corporation",
        "co",
        "llc",
        "gmbh",
    ],
    key=len,
    reverse=True,
)
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)
_DIGITS = re.compile(r"\D+")


def name_key(name: str) -> str:
    """``（上海）华为技术有限公司`` and ``(上海)华为技术 公司`` → the same key."""
    folded = unicodedata.normalize("NFKC", name or "").casefold()
    compact = _NOT_WORD.sub("", folded)
    for suffix in _LEGAL_SUFFIXES:
        if compact.endswith(suffix) and len(compact) > len(suffix):
            compact = compact[: -len(suffix)]
            break
    return compact


def phone_key(phone: str) -> str:
    """Digits only, in the domestic form: the +86 / 0086 country code goes, and a landline gets
    back its trunk 0, so ``+86 138-0013-8000`` = ``13800138000`` and ``+86 21 6288 0001`` =
    ``021-6288 0001`` = ``02162880001``."""
    text = unicodedata.normalize("NFKC", phone or "").strip()
    digits = _DIGITS.sub("", text)
    international = text.startswith("+86") or digits.startswith("0086")
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and (international or len(digits) == 13):
        digits = digits[2:]
    else:
        return digits
    # After the country code: a mobile number (1xx, 11 digits) or a landline without its 0.
    if digits and not (digits.startswith("1") and len(digits) == 11) and not digits.startswith("0"):
        digits = "0" + digits
    return digits


def email_key(email: str) -> str:
    return unicodedata.normalize("NFKC", email or "").strip().casefold()


def search_text(
    *, number: str, name: str, phone: str, email: str, contacts: list[tuple[str, str, str]]
) -> str:
    """What the list's search box matches: number, names, phones (also digits only), e-mails.

    ``contacts`` is ``[(name, phone, email), ...]``. Lowercased so one ILIKE finds any case.
    """
    parts = [number, name, phone, phone_key(phone), email]
    for contact_name, contact_phone, contact_email in contacts:
        parts += [contact_name, contact_phone, phone_key(contact_phone), contact_email]
    return " ".join(part for part in parts if part).casefold()


def set_keys(customer, contacts: list[tuple[str, str, str]]) -> None:
    """Set a customer's name/phone/e-mail keys and search text, given its contacts as
    ``[(name, phone, email), ...]``; nothing is saved (services, imports and demo data save)."""
    customer.name_key = name_key(customer.name)
    customer.phone_key = phone_key(customer.phone)
    customer.email_key = email_key(customer.email)
    customer.search_text = search_text(
        number=customer.number,
        name=customer.name,
        phone=customer.phone,
        email=customer.email,
        contacts=contacts,
    )


# A query made only of digits and phone punctuation is searched as a phone number: the search
# text holds every phone also as digits only (search_text).
_PHONE_LIKE = re.compile(r"^[\d\s\-+()（）.]+$")
_MIN_PHONE_DIGITS = 5


def search_needle(query: str) -> str:
    """What to look for in ``search_text``: digits only for a phone, else the lowercased text."""
    query = (query or "").strip()
    if _PHONE_LIKE.match(query) and len(phone_key(query)) >= _MIN_PHONE_DIGITS:
        return phone_key(query)
    return query.casefold()
