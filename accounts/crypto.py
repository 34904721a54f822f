"""Encryption at rest for personal data (SPEC 2: ID-card and bank-card numbers, PIPL).

Values are encrypted with Fernet (AES-128-CBC with an HMAC) under the keys of
``FIELD_ENCRYPTION_KEYS``: the first key encrypts, every key decrypts, so a key is rotated by
putting a new one first and re-saving the rows (``manage.py rotate_encryption_keys`` is not
needed: ``EncryptedCharField`` re-encrypts on the next save).
"""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "enc1:"  # marks a stored value as ciphertext, so a raw column read shows it is encrypted


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as error:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must be url-safe base64 Fernet keys of 32 bytes; see the README "
            "(Configuration) for how to make one."
        ) from error


def encrypt(value: str) -> str:
    token = _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS)).encrypt(value.encode())
    return PREFIX + token.decode()


def decrypt(stored: str) -> str:
    if not stored.startswith(PREFIX):
        return stored  # written before encryption was switched on; re-encrypted on next save
    try:
        return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS)).decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        raise ImproperlyConfigured(
            "An encrypted value cannot be read with FIELD_ENCRYPTION_KEYS: was a key removed?"
        ) from None


class EncryptedCharField(models.TextField):
    """A short secret (a card or ID number), encrypted in the database, plain in Python.

    The column cannot be searched or sorted; store a separate normalised key for that if needed.
    ``max_length`` limits the plain text, as for a CharField.
    """

    def __init__(self, *args, max_length: int = 64, **kwargs) -> None:
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, max_length=max_length, **kwargs)

    def from_db_value(self, value, expression, connection):
        if value is None:
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt(value)


def mask(value: str, *, keep_start: int = 3, keep_end: int = 4) -> str:
    """``110101199003071234`` → ``110***********1234``: enough to recognise, not to use."""
    if not value:
        return ""
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[-keep_end:]
