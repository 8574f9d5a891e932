"""Field encryption keys and blind indexes.

Keys are explicit settings, never derived from SECRET_KEY, so that the secret key and the data keys
can be rotated apart. FIELD_ENCRYPTION_KEYS lists Fernet keys newest first: the first encrypts, all
decrypt, and `manage.py rotate_keys` moves every value onto the first.
"""

import hashlib
import hmac
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver


class DecryptionError(Exception):
    """A stored value could not be decrypted with any configured key. Never shown as ciphertext."""


@cache
def _multi_fernet() -> MultiFernet:
    keys = getattr(settings, "FIELD_ENCRYPTION_KEYS", None)
    if not keys:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS is not set; encrypted data cannot be read."
        )
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS holds a key that is not a Fernet key."
        ) from exc


@cache
def _primary_fernet() -> Fernet:
    return Fernet(settings.FIELD_ENCRYPTION_KEYS[0])


@cache
def _blind_index_key() -> bytes:
    key = getattr(settings, "BLIND_INDEX_KEY", "")
    if not key:
        raise ImproperlyConfigured("BLIND_INDEX_KEY is not set; exact-match search cannot work.")
    return key.encode()


@receiver(setting_changed)
def _forget_keys(*, setting, **kwargs):
    if setting in {"FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY"}:
        _multi_fernet.cache_clear()
        _primary_fernet.cache_clear()
        _blind_index_key.cache_clear()


def check_keys() -> None:
    """Raise ImproperlyConfigured unless every key setting is present and well formed."""
    _multi_fernet()
    _blind_index_key()


def encrypt_bytes(data: bytes) -> bytes:
    return _multi_fernet().encrypt(data)


def decrypt_bytes(token: bytes) -> bytes:
    try:
        return _multi_fernet().decrypt(token)
    except InvalidToken as exc:
        raise DecryptionError(
            "An encrypted value could not be decrypted with the configured keys."
        ) from exc


def is_current(token: bytes) -> bool:
    """True if the token is already encrypted under the newest key."""
    try:
        _primary_fernet().decrypt(token)
    except InvalidToken:
        return False
    return True


def rotate_token(token: bytes) -> bytes:
    """Re-encrypt under the newest key; raises DecryptionError if no key opens it."""
    try:
        return _multi_fernet().rotate(token)
    except InvalidToken as exc:
        raise DecryptionError("An encrypted value could not be rotated: no key opens it.") from exc


def blind_index(normalised: str) -> str:
    """Keyed hash for exact-match search; reveals nothing without BLIND_INDEX_KEY."""
    return hmac.new(_blind_index_key(), normalised.encode(), hashlib.sha256).hexdigest()


def normalise_text(value: str) -> str:
    return " ".join(value.split()).casefold()


def normalise_compact(value: str) -> str:
    """NI numbers and similar codes: case and spacing do not matter."""
    return "".join(value.split()).upper()


def normalise_phone(value: str) -> str:
    digits = "".join(ch for ch in value if ch.isdigit())
    if digits.startswith("44"):
        digits = "0" + digits[2:]
    return digits
