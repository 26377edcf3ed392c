"""Working days and hours, and the complaint deadlines built on them (R-COMP-2, rule 002:5.1.2).

Pure functions over a `WorkingCalendar`: the exam's country (its weekend and public holidays,
from the `holidays` package, never a hand-made list), its time zone and its working hours. Every
deadline is an aware datetime at the close of some working day, so "time left" is plain
subtraction and daylight-saving changes are the time zone's business.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays


@dataclass(frozen=True)
class WorkingCalendar:
    country: str
    time_zone: str
    day_starts: time = time(9, 0)
    day_ends: time = time(18, 0)
    # Tests pass a fixed calendar; otherwise the `holidays` package's for the country.
    extra_holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if self.day_starts >= self.day_ends:
            raise ValueError("the working day must end after it starts")

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @cached_property
    def _public(self) -> holidays.HolidayBase:
        return holidays.country_holidays(self.country)

    @property
    def weekend(self) -> frozenset[int]:
        """Weekday numbers (Monday 0) that are not working days in this country."""
        return frozenset(getattr(self._public, "weekend", {5, 6}))

    def holiday_name(self, day: date) -> str | None:
        if day in self.extra_holidays:
            return "holiday"
        return self._public.get(day)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() not in self.weekend and self.holiday_name(day) is None

    def working_days_after(self, day: date) -> Iterator[date]:
        """The working days strictly after `day`, in order."""
        while True:
            day += timedelta(days=1)
            if self.is_working_day(day):
                yield day

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def opening_of(self, day: date) -> datetime:
        return datetime.combine(day, self.day_starts, tzinfo=self.zone)

    def close_of(self, day: date) -> datetime:
        return datetime.combine(day, self.day_ends, tzinfo=self.zone)

    def announcement_day(self, moment: datetime) -> date:
        """The working day a moment counts as: its own if it falls before that day's close, else the next one."""
        day = self.local(moment).date()
        if self.is_working_day(day) and moment < self.close_of(day):
            return day
        return next(self.working_days_after(day))

    def add_working_hours(self, moment: datetime, hours: float) -> datetime:
        """Return the moment `hours` of working time after `moment` (time outside working hours does not count)."""
        left = timedelta(hours=hours)
        day = self.local(moment).date()
        cursor = moment
        while True:
            if self.is_working_day(day):
                start = max(cursor, self.opening_of(day))
                close = self.close_of(day)
                if start < close:
                    if start + left <= close:
                        return start + left
                    left -= close - start
            day = next(self.working_days_after(day))
            cursor = self.opening_of(day)


def conduct_decision_due(calendar: WorkingCalendar, exam_moment: datetime, working_days: int = 1) -> datetime:
    """A complaint about how the exam was run: decided by the close of the n-th working day after the exam's day."""
    if working_days < 1:
        raise ValueError("at least one working day")
    days = calendar.working_days_after(calendar.local(exam_moment).date())
    for _ in range(working_days - 1):
        next(days)
    return calendar.close_of(next(days))


def score_decision_due(calendar: WorkingCalendar, published_at: datetime) -> datetime:
    """A complaint about the score: decided within the working hours of the day results were announced.

    Results published after the close, or on a day off, count as announced the next working day.
    """
    return calendar.close_of(calendar.announcement_day(published_at))
