"""The subject access clock (UK GDPR Art. 12(3), as the ICO reads it).

One calendar month from the day the request (or the identity evidence reasonably asked for) was
received: the same date next month; where that date does not exist, the last day of that month;
where it falls on a weekend or an England and Wales bank holiday, the next working day. Days the
clock stood stopped for genuinely needed clarification are added back. An extension adds up to
two further months, counted the same way from the same start.
"""

import calendar
import datetime
from functools import cache

import holidays

MAX_EXTENSION_MONTHS = 2


@cache
def _bank_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("GB", subdiv="ENG", years=[year])


def is_working_day(day: datetime.date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def next_working_day(day: datetime.date) -> datetime.date:
    while not is_working_day(day):
        day += datetime.timedelta(days=1)
    return day


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The corresponding date `months` later, or the last day of that month if there is none."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def due_date(
    start: datetime.date, *, extension_months: int = 0, days_stopped: int = 0
) -> datetime.date:
    if not 0 <= extension_months <= MAX_EXTENSION_MONTHS:
        raise ValueError("An extension is of one or two further months.")
    if days_stopped < 0:
        raise ValueError("The clock cannot stand stopped for a negative number of days.")
    end = add_months(start, 1 + extension_months) + datetime.timedelta(days=days_stopped)
    return next_working_day(end)


def working_days_between(start: datetime.date, end: datetime.date) -> int:
    """Working days after `start` up to and including `end` (negative if `end` is earlier)."""
    if end < start:
        return -working_days_between(end, start)
    days, day = 0, start
    while day < end:
        day += datetime.timedelta(days=1)
        days += is_working_day(day)
    return days
