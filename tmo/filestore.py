"""Encrypted file storage: files live under DOCUMENT_ROOT as Fernet tokens, named by a random id,
never served by the web server; they leave only through a policy-checked view. Models that keep
files here name the fields holding their storage names in the data map (`encrypted_files`), so key
rotation and disposal find every file."""

import os
import tempfile
from pathlib import Path

from django.conf import settings

from tmo import crypto


def document_path(storage_name: str) -> Path:
    return Path(settings.DOCUMENT_ROOT) / storage_name[:2] / storage_name


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
