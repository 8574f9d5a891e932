"""Long PDFs laid out in parts on several processes, joined in order and numbered."""

import io

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
