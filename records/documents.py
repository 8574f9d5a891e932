"""Encrypted document storage: files live under DOCUMENT_ROOT as Fernet tokens, named by a random
id, never served by the web server; they leave only through the policy-checked download view."""

import os
import tempfile
from pathlib import Path

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError

from tmo import crypto

# Real file types we accept, by their content, and the extensions that go with them.
ALLOWED_TYPES = {
    "application/pdf": {"pdf"},
    "image/jpeg": {"jpg", "jpeg"},
    "image/png": {"png"},
    "text/plain": {"txt"},
}


def document_path(storage_name: str) -> Path:
    return Path(settings.DOCUMENT_ROOT) / storage_name[:2] / storage_name


def sniff_content_type(data: bytes, filename: str) -> str:
    """Identify the file by its bytes, not by the name or the browser's claim."""
    if not data:
        raise ValidationError("The selected file is empty.")
    if len(data) > settings.DOCUMENT_MAX_BYTES:
        raise ValidationError(
            "The selected file must be smaller than %(limit)s MB.",
            params={"limit": settings.DOCUMENT_MAX_BYTES // (1024 * 1024)},
        )
    kind = filetype.guess(data)
    extension = Path(filename).suffix.lower().lstrip(".")
    if kind is not None:
        content_type = kind.mime
    elif _is_plain_text(data):
        content_type = "text/plain"
    else:
        content_type = ""
    if content_type not in ALLOWED_TYPES:
        raise ValidationError("The selected file must be a PDF, JPG, PNG or plain text file.")
    if extension not in ALLOWED_TYPES[content_type]:
        raise ValidationError(
            "The file's name says .%(extension)s but its content is a %(kind)s file.",
            params={"extension": extension or "(none)", "kind": content_type},
        )
    return content_type


def _is_plain_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def write_encrypted(storage_name: str, data: bytes) -> None:
    """Write atomically: a crash leaves either the old file or the new one, never half of one."""
    write_token(storage_name, crypto.encrypt_bytes(data))


def write_token(storage_name: str, token: bytes) -> None:
    path = document_path(storage_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(token)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_token(storage_name: str) -> bytes:
    return document_path(storage_name).read_bytes()


def read_decrypted(storage_name: str) -> bytes:
    return crypto.decrypt_bytes(read_token(storage_name))


def delete(storage_name: str) -> None:
    document_path(storage_name).unlink(missing_ok=True)
