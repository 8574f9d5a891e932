"""The due-date rules against worked examples."""

import datetime

import pytest

from sar.clock import add_months, due_date, is_working_day, next_working_day

D = datetime.date


@pytest.mark.parametrize(
    ("received", "due", "why"),
    [
        (D(2026, 3, 3), D(2026, 4, 7), "3 April is Good Friday, 6 April Easter Monday"),
        (D(2026, 1, 31), D(2026, 3, 2), "no 31 February: the 28th is a Saturday -> Monday"),
        (D(2026, 10, 5), D(2026, 11, 5), "an ordinary Thursday"),
        (D(2026, 4, 25), D(2026, 5, 26), "25 May 2026 is the spring bank holiday -> Tuesday"),
        (D(2027, 1, 29), D(2027, 3, 1), "no 29 Feb 2027: 28th is a Sunday -> Monday 1 March"),
        (D(2028, 1, 31), D(2028, 2, 29), "leap year: 29 February 2028 exists and is a Tuesday"),
        (D(2026, 11, 26), D(2026, 12, 29), "26 Dec is Saturday and 28 Dec the Boxing Day holiday"),
    ],
)
def test_worked_examples(received, due, why):
    assert due_date(received) == due, why


def test_a_due_date_on_a_saturday_moves_to_monday():
    assert D(2026, 8, 15).weekday() == 5
    assert due_date(D(2026, 7, 15)) == D(2026, 8, 17)


def test_a_bank_holiday_monday_moves_to_tuesday():
    assert due_date(D(2026, 7, 31)) == D(2026, 9, 1)  # 31 Aug 2026 is the late summer holiday


def test_a_stopped_clock_adds_the_days_it_stood_stopped():
    assert due_date(D(2026, 10, 5), days_stopped=9) == D(2026, 11, 16)  # 14th is a Saturday


def test_an_extension_counts_from_the_same_start():
    assert due_date(D(2026, 1, 31), extension_months=2) == D(2026, 4, 30)
    assert due_date(D(2026, 10, 5), extension_months=1) == D(2026, 12, 7)  # 5 Dec is a Saturday


def test_extensions_are_of_one_or_two_months_only():
    with pytest.raises(ValueError):
        due_date(D(2026, 10, 5), extension_months=3)


def test_leap_day_itself():
    assert add_months(D(2028, 2, 29), 1) == D(2028, 3, 29)
    assert add_months(D(2028, 2, 29), 12) == D(2029, 2, 28)
    assert due_date(D(2028, 2, 29)) == D(2028, 3, 29)


def test_working_days():
    assert not is_working_day(D(2026, 12, 25))
    assert not is_working_day(D(2026, 12, 28))  # Boxing Day observed
    assert next_working_day(D(2026, 12, 25)) == D(2026, 12, 29)
