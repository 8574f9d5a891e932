"""Pieces every app's registers and committee figures share: small-number suppression for
anonymised counts, and spreadsheet-safe CSV cells.

Counts from 1 to SMALL_NUMBER - 1 could point at someone in a small organisation, so published
figures show them as "fewer than 5". Zeros are shown: "none" tells nothing about anyone.
"""

import csv
import io
from dataclasses import dataclass

SMALL_NUMBER = 5
SUPPRESSED = "fewer than %d" % SMALL_NUMBER
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Cell:
    value: int
    suppressed: bool = False

    def __str__(self):
        return SUPPRESSED if self.suppressed else str(self.value)


def is_small(value: int) -> bool:
    return 0 < value < SMALL_NUMBER


def suppress(table: list[list[int]], *, row_totals: bool = True) -> list[list[Cell]]:
    """Counts with their totals, small numbers hidden so that no hidden count can be worked back.

    `table` is the inner counts (a row per period, a column per category). The result adds a
    total to each row (unless `row_totals` is False: columns that overlap, such as "received"
    and "extended", do not add up) and a totals row, and hides every small count (primary
    suppression). Then, while any line that adds up has exactly one hidden cell, the smallest
    other non-zero cell in it is hidden too (secondary suppression), so a hidden count is never
    a total less the shown ones.
    """
    columns = len(table[0]) if table else 0
    grid = [[*row, sum(row)] if row_totals else list(row) for row in table]
    width = columns + 1 if row_totals else columns
    grid.append([sum(row[c] for row in grid) for c in range(width)])
    cells = [[Cell(value, is_small(value)) for value in row] for row in grid]
    lines = [[row[c] for row in cells] for c in range(width)]
    if row_totals:
        lines += [list(row) for row in cells]
    hide_complements(lines)
    return cells


def hide_complements(lines: list[list[Cell]]) -> None:
    """Secondary suppression over `lines` (each a run of cells that adds up), in their order:
    while a line has exactly one hidden cell, hide its smallest other non-zero cell too. The
    order decides which cell goes when two lines compete, so callers keep theirs."""
    changed = True
    while changed:
        changed = False
        for line in lines:
            hidden = [cell for cell in line if cell.suppressed]
            if len(hidden) != 1:
                continue
            shown = [cell for cell in line if not cell.suppressed and cell.value > 0]
            if shown:
                min(shown, key=lambda cell: cell.value).suppressed = True
                changed = True


def neutralise(value) -> str:
    """The cell as text a spreadsheet will show, never run: a leading quote defuses a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(header, rows) -> str:
    """A CSV document with every cell quoted and neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow([neutralise(value) for value in header])
    for row in rows:
        writer.writerow([neutralise(value) for value in row])
    return out.getvalue()
