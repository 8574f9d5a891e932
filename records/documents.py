"""What an upload must be before it is stored: a real file of an allowed type, within the size
limit. Storing it encrypted is tmo.filestore's job."""

from pathlib import Path

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError

# Real file types we accept, by their content, and the extensions that go with them.
ALLOWED_TYPES = {
    "application/pdf": {"pdf"},
    "image/jpeg": {"jpg", "jpeg"},
    "image/png": {"png"},
    "text/plain": {"txt"},
}


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
