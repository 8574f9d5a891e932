"""Long PDFs laid out in parts on several processes, joined in order and numbered."""

import io
import logging

from pypdf import PdfReader

from tmo import pdf

PART = (
    '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8"><style>@page { size: A4; '
    "margin: 25mm 20mm; }</style></head><body>%s</body></html>"
)


def parts(count: int) -> list[str]:
    # Part n holds n pages, so a part out of order or lost shows in the page texts.
    return [
        PART
        % "".join(
            '<p style="page-break-after: always">Part %d sheet %d</p>' % (number, sheet)
            for sheet in range(1, number + 1)
        )
        for number in range(1, count + 1)
    ]


def page_texts(document: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(document)).pages]


def test_parts_laid_out_on_several_processes_come_back_in_order_and_match_one_process():
    html = parts(4)
    in_parallel = pdf.lay_out(html, workers=2)
    assert [page_texts(part) for part in in_parallel] == [
        page_texts(part) for part in pdf.lay_out(html, workers=1)
    ]
    assert [len(PdfReader(io.BytesIO(part)).pages) for part in in_parallel] == [1, 2, 3, 4]


def test_joined_pages_are_numbered_straight_through_with_the_total():
    joined = pdf.join_numbered(pdf.lay_out(parts(3), workers=2), title="Your information: X")
    texts = page_texts(joined)
    assert len(texts) == 6
    expected = [(1, 1), (2, 1), (2, 2), (3, 1), (3, 2), (3, 3)]
    for number, (text, (part, sheet)) in enumerate(zip(texts, expected, strict=True), start=1):
        assert "Part %d sheet %d" % (part, sheet) in text
        assert "Page %d of 6" % number in text
    assert PdfReader(io.BytesIO(joined)).metadata.title == "Your information: X"


def drawn_text(page) -> list[tuple[float, float, str]]:
    """Each run of text on the page with where it lands, in points from the page's bottom left,
    following the graphics state as a PDF reader does: a restore with nothing saved is an error,
    not a reset (pypdf's own text visitor forgives it)."""
    from pypdf.generic import ContentStream

    def times(a, b):
        return [
            a[0] * b[0] + a[1] * b[2],
            a[0] * b[1] + a[1] * b[3],
            a[2] * b[0] + a[3] * b[2],
            a[2] * b[1] + a[3] * b[3],
            a[4] * b[0] + a[5] * b[2] + b[4],
            a[4] * b[1] + a[5] * b[3] + b[5],
        ]

    runs, saved, ctm, line = [], [], [1, 0, 0, 1, 0, 0], [1, 0, 0, 1, 0, 0]
    for operands, operator in ContentStream(page.get_contents(), page.pdf).operations:
        values = [float(value) for value in operands if isinstance(value, (int, float))]
        if operator == b"q":
            saved.append(ctm)
        elif operator == b"Q":
            assert saved, "the page restores a graphics state it never saved"
            ctm = saved.pop()
        elif operator == b"cm":
            ctm = times(values, ctm)
        elif operator == b"BT":
            line = [1, 0, 0, 1, 0, 0]
        elif operator == b"Tm":
            line = values
        elif operator == b"Td":
            line = times([1, 0, 0, 1, *values], line)
        elif operator in (b"Tj", b"TJ"):
            x, y = times(line, ctm)[4:]
            runs.append((round(x, 1), round(y, 1), operator))
    return runs


def test_the_page_number_is_centred_at_the_foot_and_leaves_the_page_where_it_was():
    laid_out = pdf.lay_out(parts(2), workers=1)
    joined = PdfReader(io.BytesIO(pdf.join_numbered(laid_out, title="X"))).pages
    originals = [page for part in laid_out for page in PdfReader(io.BytesIO(part)).pages]
    for number, (page, original) in enumerate(zip(joined, originals, strict=True), start=1):
        *body, (x, y, _) = drawn_text(page)
        # The part's own drawing transforms its coordinates; the stamp must not inherit that.
        assert body == drawn_text(original)
        text = "Page %d of 3" % number
        assert page.extract_text().endswith(text)
        # Centred: a 9 pt run of Helvetica is about half an em a character.
        assert abs(x + 9 * 0.5 * len(text) / 2 - float(page.mediabox.width) / 2) < 5
        # Below the 25 mm margin the text stops at, and on the page.
        assert 10 < y < 25 / 25.4 * 72


def test_a_blank_page_with_no_drawing_of_its_own_is_numbered_too():
    from pypdf import PdfWriter

    blank = PdfWriter()
    blank.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    blank.write(out)
    laid_out = pdf.lay_out(parts(1), workers=1)
    joined = PdfReader(io.BytesIO(pdf.join_numbered([*laid_out, out.getvalue()], title="X")))
    assert [drawn_text(page)[-1][1] for page in joined.pages] == [32.0, 32.0]
    assert joined.pages[1].extract_text() == "Page 2 of 2"


def test_laying_out_a_pdf_does_not_log_every_page(caplog):
    with caplog.at_level(logging.INFO):
        pdf.html_to_pdf(parts(3)[2])
    assert [record for record in caplog.records if record.name.startswith("weasyprint")] == []
