"""Background work for subject access bundles: build one, and expire those past their date.

A build writes the whole zip (PDF, JSON, CSV, index and document copies) to memory, stores it
encrypted, and only then marks the bundle ready; a failed attempt leaves no file and is tried
again up to Bundle.MAX_ATTEMPTS times.
"""

import csv
import io
import json
import zipfile

import filetype
from django.apps import apps
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import get_valid_filename, slugify
from django_tasks import task

from sar import redaction
from sar.models import Bundle, SarItem, SarRedaction
from sar.services import bundles as services
from tmo import datamap, filestore, retention
from tmo.pdf import join_numbered, lay_out

Decision = SarItem.Decision
NO_AUTOMATED_DECISIONS = "We make no decisions about you by automated means, and no profiling."


@task()
def build_bundle(bundle_id: int) -> str:
    bundle = services.build_start(bundle_id)
    if bundle is None:
        return "nothing to build"
    storage_name = bundle.storage_name
    try:
        data = assemble(bundle)
        # Written under a temporary name and moved into place whole (filestore), and offered
        # only once build_finished has recorded its checksum.
        filestore.write_encrypted(storage_name, data)
        services.build_finished(
            bundle, storage_name=storage_name, size=len(data), checksum=services.checksum_of(data)
        )
    except services.BuildTakenOver:
        filestore.delete(storage_name)
        return "taken over"
    except Exception as error:  # noqa: BLE001 - any failure is recorded and retried
        filestore.delete(storage_name)
        if services.build_failed(bundle, error):
            build_bundle.enqueue(bundle_id)
        return "failed"
    return "ready"


@task()
def expire_bundles() -> int:
    return services.bundles_expire()


# Items laid out per WeasyPrint run. One run over a heavy subject's thousands of items holds
# every page's layout at once (3 GB at 8,000 items); parts keep the peak to one part's worth
# per layout worker (settings.PDF_LAYOUT_WORKERS).
PDF_PART_ITEMS = 250


def _parts(rows: list, size: int) -> list[list]:
    return [rows[start : start + size] for start in range(0, len(rows), size)] or [[]]


def render_bundle_pdf(context: dict, *, part_items: int | None = None) -> bytes:
    """The letter, the released items and the index, laid out a part at a time, joined and
    numbered "Page N of M" (tmo.pdf)."""
    size = part_items or PDF_PART_ITEMS
    parts = [{"part": "front"}]
    released = _parts(context["released"], size)
    for number, rows in enumerate(released):
        parts.append(
            {
                "part": "items",
                "released": rows,
                "first_chunk": number == 0,
                # A category carried over from the previous part is headed "(continued)".
                "continues": released[number - 1][-1]["category"] if number else None,
            }
        )
    index = _parts(context["index"], size * 4)
    for number, rows in enumerate(index):
        parts.append(
            {
                "part": "index",
                "index": rows,
                "first_chunk": number == 0,
                "last_chunk": number == len(index) - 1,
            }
        )
    html = [render_to_string("sar/pdf/bundle.html", {**context, **part}) for part in parts]
    return join_numbered(
        lay_out(html, workers=settings.PDF_LAYOUT_WORKERS),
        title="Your information: %s" % context["request"].reference,
    )


# --- assembling ------------------------------------------------------------------------------


def _fields_shown(item: SarItem, data: dict) -> list[dict]:
    """The item's fields as the requester sees them: accepted redactions visibly marked."""
    spans: dict[str, list[tuple[int, int]]] = {}
    for red in item.redactions.all():
        if red.status == SarRedaction.Status.ACCEPTED:
            spans.setdefault(red.field_name, []).append((red.start, red.end))
    return [
        {"label": f["label"], "value": redaction.apply(f["value"], spans.get(f["name"], []))}
        for f in data["fields"]
    ]


def _status_of(item: SarItem) -> str:
    if item.decision == Decision.WITHHELD:
        return "Withheld"
    if item.has_redactions:
        return "Included with redactions"
    return "Included"


def _document_name(item: SarItem, number: int, file: dict, content: bytes) -> str:
    name = get_valid_filename(file["filename"]) if file["filename"] else ""
    if not name:
        kind = filetype.guess(content)
        extension = ("." + kind.extension) if kind else ".bin"
        name = "%s%s" % (slugify(item.record_name) or "document", extension)
    return "documents/%03d-%s" % (number, name)


def _supplementary(items: list[SarItem]) -> list[dict]:
    """Art. 15 information for each kind of record held about the person, from the map."""
    seen = []
    for label in dict.fromkeys(item.model_label for item in items):
        entry = datamap.entry_for(apps.get_model(label))
        seen.append(
            {
                "record": entry.model_name,
                "category": str(entry.category_label),
                "purpose": entry.purpose,
                "lawful_basis": str(entry.lawful_basis_label),
                "condition": entry.condition,
                "retention": str(retention.schedule_for(entry) or "Kept while needed"),
                "recipients": entry.recipients
                or "Our staff whose work needs it; nobody else without a recorded decision.",
                "source": entry.source or "You, and our staff recording their work with you.",
            }
        )
    return seen


def assemble(bundle: Bundle) -> bytes:
    request = bundle.request
    items = list(
        bundle.items.prefetch_related("redactions").order_by("category", "record_name", "pk")
    )
    services.build_progress(bundle, 5)
    released, withheld, index, files = [], [], [], []
    for number, item in enumerate(items, start=1):
        data = json.loads(item.data)
        row = {
            "number": number,
            "record": item.record_name,
            "model": item.model_label,
            "reference": item.object_id,
            "category": str(datamap.Category(item.category).label),
            "status": _status_of(item),
        }
        if item.decision == Decision.WITHHELD:
            row["exemption"] = str(item.get_exemption_display())
            row["reason"] = item.exemption_reason
            withheld.append(row)
        else:
            row["fields"] = _fields_shown(item, data)
            row["documents"] = []
            for file in data["files"]:
                if item.has_redactions:
                    # A copy cannot be redacted line by line here: the handler sends it apart.
                    row["documents"].append("Copy not included: it holds redacted information.")
                    continue
                content = filestore.read_decrypted(file["storage_name"])
                name = _document_name(item, len(files) + 1, file, content)
                files.append((name, content))
                row["documents"].append(name)
            released.append(row)
        index.append(row)
        percent = 5 + int(45 * number / max(len(items), 1))
        if percent != bundle.progress:
            services.build_progress(bundle, percent)
    context = {
        "request": request,
        "bundle": bundle,
        "released": released,
        "withheld": withheld,
        "index": index,
        "supplementary": _supplementary(items),
        "automated": NO_AUTOMATED_DECISIONS,
        "organisation_name": settings.ORGANISATION_NAME,
        "today": timezone.localdate(),
    }
    pdf = render_bundle_pdf(context)
    services.build_progress(bundle, 70)
    portable = {
        "request": request.reference,
        "generated_at": timezone.now().isoformat(),
        "items": [
            {
                "record": row["record"],
                "model": row["model"],
                "reference": row["reference"],
                "category": row["category"],
                "status": row["status"],
                "fields": row["fields"],
                "documents": row["documents"],
            }
            for row in released
        ],
        "withheld": [
            {
                "record": row["record"],
                "model": row["model"],
                "reference": row["reference"],
                "exemption": row["exemption"],
                "reason": row["reason"],
            }
            for row in withheld
        ],
        "supplementary_information": context["supplementary"],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("your-data.pdf", pdf)
        archive.writestr(
            "your-data.json", json.dumps(portable, ensure_ascii=False, indent=2).encode()
        )
        archive.writestr("your-data.csv", _data_csv(released))
        archive.writestr("index.csv", _index_csv(index))
        services.build_progress(bundle, 80)
        for name, content in files:
            archive.writestr(name, content)
    services.build_progress(bundle, 95)
    return buffer.getvalue()


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        # A value starting with a formula character is opened as text, not run, by spreadsheets.
        writer.writerow(["'" + v if v[:1] in ("=", "+", "-", "@") else v for v in map(str, row)])
    return out.getvalue().encode("utf-8-sig")


def _data_csv(released: list[dict]) -> bytes:
    rows = [["Record", "Reference", "Category", "Item", "Value"]]
    for row in released:
        for field in row["fields"]:
            rows.append(
                [row["record"], row["reference"], row["category"], field["label"], field["value"]]
            )
    return _csv(rows)


def _index_csv(index: list[dict]) -> bytes:
    rows = [["Number", "Record", "Reference", "Category", "Status", "Exemption", "Reason"]]
    for row in index:
        rows.append(
            [
                row["number"],
                row["record"],
                row["reference"],
                row["category"],
                row["status"],
                row.get("exemption", ""),
                row.get("reason", ""),
            ]
        )
    return _csv(rows)
