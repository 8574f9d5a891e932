"""Hostile input for the form fuzzing tests: what the pages' forms ask for, values to send them,
and what the database and file store hold before and after.

`forms_in(html)` reads the POST forms of a page as a browser would; `submission(fields)` is a
hypothesis strategy for one submission to such a form, mixing the values the page itself offers
(an edit form's current values, a select's options) with over-long, control-character, markup,
SQL and wrong-type values, dropped and repeated fields, and files whose names and contents lie.
`multipart(items)` writes the request body by hand so that file names reach the server exactly as
sent (Django's test client would strip `../` from them).
"""

import re
import uuid
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from django.apps import apps
from django.conf import settings
from hypothesis import strategies as st

from tmo.datamap import encrypted_file_fields

PROJECT_APPS = ("tmo", "access", "records", "disclosures", "sar")
AUDIT_MODELS = ("auditlog.LogEntry",)


@dataclass
class Field:
    name: str
    kind: str  # text, textarea, select, checkbox, radio, hidden, file, number, date, email, submit
    value: str = ""
    options: list[str] = field(default_factory=list)


@dataclass
class Form:
    action: str
    multipart: bool
    fields: list[Field]


class _PageParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._form: Form | None = None
        self._select: Field | None = None
        self._textarea: Field | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag == "form":
            if a.get("method", "get").lower() == "post":
                self._form = Form(
                    a.get("action", ""), "multipart" in a.get("enctype", ""), fields=[]
                )
                self.forms.append(self._form)
            return
        if self._form is None or (not a.get("name") and tag != "option"):
            return
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in {"checkbox", "radio"}:
                existing = next(
                    (f for f in self._form.fields if f.name == a["name"] and f.kind == kind), None
                )
                if existing:
                    existing.options.append(a.get("value", "on"))
                    return
                self._form.fields.append(
                    Field(a["name"], kind, a.get("value", "on"), [a.get("value", "on")])
                )
                return
            if kind in {"submit", "button", "image"}:
                kind = "submit"
            self._form.fields.append(Field(a["name"], kind, a.get("value", "")))
        elif tag == "button" and a.get("type", "submit") == "submit":
            self._form.fields.append(Field(a["name"], "submit", a.get("value", "")))
        elif tag == "select":
            self._select = Field(a["name"], "select")
            self._form.fields.append(self._select)
        elif tag == "option" and self._select is not None:
            self._select.options.append(a.get("value", ""))
            if "selected" in a:
                self._select.value = a.get("value", "")
        elif tag == "textarea":
            self._textarea = Field(a["name"], "textarea")
            self._form.fields.append(self._textarea)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            if self._textarea is not None:
                self._textarea.value = self._textarea.value.removeprefix("\n")
            self._textarea = None


def read_page(html: str) -> tuple[list[Form], list[str]]:
    parser = _PageParser()
    parser.feed(html)
    return parser.forms, parser.links


# --- values -----------------------------------------------------------------------------------

CONTROL = ["\x00", "a\x00b", "\x01\x02\x07\x08", "\x1b[31mred\x1b[0m", "\x7f", "\x0b\x0c", "\x85"]
MARKUP = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ 7|add:7 }}{% debug %}",
    "javascript:alert(1)",
    "]]><!--",
]
SQL = ["'; DROP TABLE records_person; --", "' OR '1'='1", "%", "_%_", "\\", "1; SELECT pg_sleep(5)"]
ODD_TEXT = ["", " ", "\r\n\t", "\u202eevil", "\ufeff", "\u200b", "😀" * 3, "ß" * 40, "İ"]
LONG = ["A" * 256, "x" * 5001, "é" * 20000]
NUMBERS = [
    "-1",
    "0",
    "1",
    "1.5",
    "1e309",
    "NaN",
    "inf",
    "99999999999999999999",
    "٣",
    "1,000",
    "0x10",
]
DATES = ["31", "2", "13", "0", "29", "2026", "1900", "99999", "-5", "2026-02-30", "30/02/2026"]
EMAILS = ["someone@example.org", "@", "a@b", "x" * 300 + "@example.org", "a@b.c\x00d"]
HOSTILE = CONTROL + MARKUP + SQL + ODD_TEXT + LONG + NUMBERS + DATES + EMAILS


# Any text a browser can send (UTF-8 cannot carry lone surrogates).
hostile_text = st.one_of(
    st.sampled_from(HOSTILE), st.text(st.characters(exclude_categories=("Cs",)), max_size=60)
)

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
    b"\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00"
HTML = b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>"
FILES = [
    ("letter.pdf", PDF, "application/pdf"),
    ("photo.png", PNG, "image/png"),
    ("invoice.pdf", EXE, "application/pdf"),
    ("photo.png", HTML, "image/png"),
    ("drawing.svg", b"<svg onload=alert(1)></svg>", "image/svg+xml"),
    ("../../etc/passwd", b"root:x:0:0:root:/root:/bin/bash\n", "text/plain"),
    ("..\\..\\windows\\win.ini", PDF, "application/pdf"),
    ("a\x00.png", PNG, "image/png"),
    ("photo.png\x00.exe", EXE, "image/png"),
    ("n" * 400 + ".pdf", PDF, "application/pdf"),
    ("", PDF, "application/pdf"),
    ("empty.pdf", b"", "application/pdf"),
    ("<script>.pdf", PDF, "text/html"),
    ("name\r\nX-Injected: 1.pdf", PDF, "application/pdf"),
]


@dataclass(frozen=True)
class Upload:
    name: str
    content: bytes
    content_type: str


uploads = st.sampled_from(FILES).map(lambda f: Upload(*f))


def _valid_looking(f: Field) -> list[str]:
    values = [f.value] if f.value else []
    if f.kind == "email":
        values.append("someone@example.org")
    elif f.kind in {"number"}:
        values.append("1")
    elif f.kind == "date" or re.search(r"(_day|_month|_year|_[012])$", f.name):
        values += ["1", "2", "2026"]
    else:
        values.append("Plain words")
    return values + list(f.options)


@st.composite
def submission(draw, fields: list[Field]) -> list[tuple[str, object]]:
    """One POST body for a form: (name, value) pairs in order, files as Upload."""
    items: list[tuple[str, object]] = []
    buttons = [f for f in fields if f.kind == "submit"]
    if buttons and draw(st.integers(0, 4)):
        button = draw(st.sampled_from(buttons))
        items.append((button.name, button.value))
    for f in fields:
        if f.kind == "submit":
            continue
        mode = draw(st.sampled_from(["valid", "valid", "hostile", "missing", "repeated"]))
        if mode == "missing":
            continue
        if f.kind == "file":
            value = draw(uploads)
        elif f.kind in {"checkbox", "radio"} and mode == "valid":
            if f.kind == "checkbox" and not draw(st.booleans()):
                continue
            value = draw(st.sampled_from(f.options))
        elif mode == "valid":
            value = draw(st.sampled_from(_valid_looking(f)))
        else:
            value = draw(hostile_text)
        items.append((f.name, value))
        if mode == "repeated":
            items.append((f.name, draw(hostile_text) if f.kind != "file" else draw(uploads)))
    if draw(st.integers(0, 5)) == 0:
        items.append(
            (
                draw(st.sampled_from(["action", "pk", "id", "next", "user", "status"])),
                draw(hostile_text),
            )
        )
    return items


# Posted at pages with no form of their own (action buttons), and as extras anywhere.
action_fields = [
    Field("action", "text"),
    Field("next", "text"),
    Field("reason", "textarea"),
    Field("pk", "number"),
    Field("confirm", "checkbox", "yes", ["yes"]),
]


def multipart(items: list[tuple[str, object]]) -> tuple[bytes, str]:
    boundary = "fuzz" + uuid.uuid4().hex
    out = []
    for name, value in items:
        out.append(b"--" + boundary.encode() + b"\r\n")
        if isinstance(value, Upload):
            out.append(
                b'Content-Disposition: form-data; name="%s"; filename="%s"\r\n'
                % (_quote(name), _quote(value.name))
            )
            out.append(b"Content-Type: %s\r\n\r\n" % value.content_type.encode())
            out.append(value.content + b"\r\n")
        else:
            out.append(b'Content-Disposition: form-data; name="%s"\r\n\r\n' % _quote(name))
            out.append(str(value).encode("utf-8") + b"\r\n")
    out.append(b"--" + boundary.encode() + b"--\r\n")
    return b"".join(out), "multipart/form-data; boundary=" + boundary


def _quote(text: str) -> bytes:
    return text.replace("\\", "\\\\").replace('"', '\\"').encode("utf-8")


# --- state ------------------------------------------------------------------------------------


def counted_models():
    models = [m for m in apps.get_models() if m._meta.app_label in PROJECT_APPS]
    return models + [apps.get_model(label) for label in AUDIT_MODELS]


ACCESS_ENTRIES = "auditlog.LogEntry (access)"


def row_counts() -> dict[str, int]:
    """Rows per model; the audit log's access entries (written whenever a record is shown, a
    refused form's page included) are counted apart from its entries for changes."""
    from auditlog.models import LogEntry

    counts = {m._meta.label: m._default_manager.count() for m in counted_models()}
    counts[ACCESS_ENTRIES] = LogEntry.objects.filter(action=LogEntry.Action.ACCESS).count()
    counts["auditlog.LogEntry"] -= counts[ACCESS_ENTRIES]
    return counts


def stored_files() -> set[str]:
    root = Path(settings.DOCUMENT_ROOT)
    if not root.exists():
        return set()
    return {p.name for p in root.rglob("*") if p.is_file()}


def referenced_files() -> set[str]:
    names = set()
    for model, name in encrypted_file_fields():
        names.update(v for v in model._default_manager.values_list(name, flat=True) if v)
    return names


def remove_files(names: set[str]) -> None:
    root = Path(settings.DOCUMENT_ROOT)
    for path in root.rglob("*"):
        if path.is_file() and path.name in names:
            path.unlink()


_TAGS = re.compile(r"<[^>]+>")


def visible_text(html: str) -> str:
    return " ".join(_TAGS.sub(" ", html).split())
