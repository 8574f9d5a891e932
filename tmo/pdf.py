"""Long PDFs from HTML: laid out part by part, in parallel, joined and numbered "Page N of M".

WeasyPrint lays out one document in one thread, and its memory grows with the document. A subject
access bundle of thousands of records is therefore cut into parts, each laid out on its own, on
as many processes as settings.PDF_LAYOUT_WORKERS allows, and joined with pypdf. A part does not
know on which page it starts until the parts before it are laid out, so the page numbers are
written on afterwards, which also lets every page say how many there are.

This module imports nothing of the project's, so that layout processes start light.
"""

import io
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

# "Page N of M" is written straight into each page's drawing in Helvetica, a font every PDF reader
# has, so nothing is embedded. Laying out a numbered blank page per page with WeasyPrint and
# merging it on took 2.5 s of a 356-page bundle's 12.
PAGE_NUMBER_FONT = "/TmoPageNumber"
PAGE_NUMBER_SIZE = 9
# Points above the foot of the page: inside the 25 mm bottom margin the parts are laid out with.
PAGE_NUMBER_BASELINE = 32
# Helvetica's advance widths, in thousandths of the font size; every digit is 556.
HELVETICA_WIDTHS = {"P": 667, "a": 556, "g": 556, "e": 556, "o": 556, "f": 278, " ": 278}


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
    """One PDF of the parts in order, every page stamped "Page N of M" at its foot."""
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject

    writer = PdfWriter()
    for pdf in pdfs:
        writer.append(PdfReader(io.BytesIO(pdf)))
    total = len(writer.pages)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
            NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
        }
    )
    # A page's own drawing may leave its coordinates transformed (WeasyPrint's does), so it is
    # wrapped in a saved graphics state, restored before the number is drawn.
    save = writer._add_object(_stream(b"q\n"))
    for number, page in enumerate(writer.pages, start=1):
        resources = page.setdefault(NameObject("/Resources"), DictionaryObject()).get_object()
        fonts = resources.setdefault(NameObject("/Font"), DictionaryObject()).get_object()
        fonts[NameObject(PAGE_NUMBER_FONT)] = font
        contents = page.get(NameObject("/Contents"))
        if contents is None:  # a blank page draws nothing
            drawing = []
        elif isinstance(contents.get_object(), ArrayObject):
            drawing = list(contents.get_object())
        else:
            drawing = [contents]
        number_text = _page_number(page, "Page %d of %d" % (number, total))
        page[NameObject("/Contents")] = ArrayObject(
            [save, *drawing, writer._add_object(_stream(number_text))]
        )
    writer.add_metadata({"/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _page_number(page, text: str) -> bytes:
    """The drawing of `text` centred at the foot of `page`, after restoring its graphics state."""
    width = sum(HELVETICA_WIDTHS.get(char, 556) for char in text) * PAGE_NUMBER_SIZE / 1000
    box = page.mediabox
    x = float(box.left) + (float(box.width) - width) / 2
    y = float(box.bottom) + PAGE_NUMBER_BASELINE
    return b"Q\nq\n0 g\nBT\n%s %d Tf\n%.2f %.2f Td\n(%s) Tj\nET\nQ\n" % (
        PAGE_NUMBER_FONT.encode(),
        PAGE_NUMBER_SIZE,
        x,
        y,
        text.encode("ascii"),
    )


def _stream(data: bytes):
    from pypdf.generic import DecodedStreamObject

    stream = DecodedStreamObject()
    stream.set_data(data)
    return stream
