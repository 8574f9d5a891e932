"""Long PDFs from HTML: laid out part by part, in parallel, joined and numbered "Page N of M".

WeasyPrint lays out one document in one thread, and its memory grows with the document. A subject
access bundle of thousands of records is therefore cut into parts, each laid out on its own, on
as many processes as settings.PDF_LAYOUT_WORKERS allows, and joined with pypdf. A part does not
know on which page it starts until the parts before it are laid out, so the page numbers are
stamped on afterwards, which also lets every page say how many there are.

This module imports nothing of the project's, so that layout processes start light.
"""

import io
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

# The page the parts are laid out on; the stamp must match it.
PAGE_NUMBER_HTML = """<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><style>
@page { size: A4; margin: 25mm 20mm;
  @bottom-center { content: "Page " counter(page) " of " counter(pages);
    font-family: "DejaVu Sans", sans-serif; font-size: 9pt; } }
div { page-break-after: always; }
</style></head><body>%s</body></html>"""


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html).write_pdf()


def lay_out(parts: list[str], *, workers: int = 1) -> list[bytes]:
    """Each HTML part as a PDF of its own, in order. With more than one worker the parts are
    laid out in fresh processes (forkserver: never a fork of a process holding database
    connections), each handed one part at a time so that at most `workers` parts are in memory
    at once."""
    workers = max(1, min(workers, len(parts)))
    if workers == 1:
        return [html_to_pdf(part) for part in parts]
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return list(pool.map(html_to_pdf, parts, chunksize=1))


def join_numbered(pdfs: list[bytes], *, title: str) -> bytes:
    """One PDF of the parts in order, every page stamped "Page N of M"."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for pdf in pdfs:
        writer.append(PdfReader(io.BytesIO(pdf)))
    total = len(writer.pages)
    stamps = PdfReader(io.BytesIO(html_to_pdf(PAGE_NUMBER_HTML % ("<div></div>" * total))))
    for page, stamp in zip(writer.pages, stamps.pages, strict=True):
        page.merge_page(stamp)
        # Merging leaves the page's content uncompressed: seven times the size otherwise.
        page.compress_content_streams()
    writer.add_metadata({"/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
