"""Complaint deadlines (R-COMP-2): working days, public holidays, working hours and time zones.

Fixed cases use the `holidays` package's real calendars (Mongolia's Naadam, Tsagaan Sar and
Republic Day; a weekend of Friday and Saturday; a daylight-saving change); Hypothesis checks the
general rules over any moment and any extra holidays.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from complaints.deadlines import WorkingCalendar, conduct_decision_due, score_decision_due

UB = ZoneInfo("Asia/Ulaanbaatar")
MONGOLIA = WorkingCalendar("MN", "Asia/Ulaanbaatar")


def ub(*args) -> datetime:
    return datetime(*args, tzinfo=UB)


@pytest.mark.parametrize(("exam", "due"), [
    (ub(2026, 11, 18, 11, 40), ub(2026, 11, 19, 18)),  # Wednesday → Thursday
    (ub(2026, 11, 20, 11, 40), ub(2026, 11, 23, 18)),  # Friday → Monday, over the weekend
    (ub(2026, 11, 25, 11, 40), ub(2026, 11, 27, 18)),  # Wednesday → Friday: Thursday 26 is Republic Day
    (ub(2026, 7, 9, 11, 40), ub(2026, 7, 16, 18)),  # Thursday → Thursday: Naadam 10–15 July and a weekend
    (ub(2026, 2, 17, 11, 40), ub(2026, 2, 23, 18)),  # Tuesday → Monday: Tsagaan Sar 18–20 February
    (ub(2026, 11, 21, 10, 0), ub(2026, 11, 23, 18)),  # an exam on a Saturday → Monday
])
def test_a_conduct_complaint_is_decided_by_the_close_of_the_next_working_day(exam, due):
    assert conduct_decision_due(MONGOLIA, exam) == due


def test_the_exam_day_is_the_exam_time_zones_day_not_utcs():
    # Friday 23:30 UTC is already Saturday 07:30 in Ulaanbaatar: the next working day is Monday, not Saturday's.
    friday_night_utc = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)
    assert conduct_decision_due(MONGOLIA, friday_night_utc) == ub(2026, 11, 23, 18)
    in_utc = WorkingCalendar("MN", "UTC")
    assert conduct_decision_due(in_utc, friday_night_utc) == datetime(2026, 11, 23, 18, tzinfo=ZoneInfo("UTC"))
    thursday_night_utc = datetime(2026, 11, 19, 23, 30, tzinfo=UTC)  # Friday morning in Ulaanbaatar
    assert conduct_decision_due(MONGOLIA, thursday_night_utc) == ub(2026, 11, 23, 18)
    assert conduct_decision_due(in_utc, thursday_night_utc) == datetime(2026, 11, 20, 18, tzinfo=ZoneInfo("UTC"))


def test_more_working_days_when_the_board_says_so():
    assert conduct_decision_due(MONGOLIA, ub(2026, 11, 20, 10), working_days=3) == ub(2026, 11, 25, 18)


def test_a_country_whose_weekend_is_friday_and_saturday():
    israel = WorkingCalendar("IL", "Asia/Jerusalem")
    assert israel.weekend == {4, 5}
    # Thursday 5 November 2026 → Sunday 8 November.
    assert conduct_decision_due(israel, datetime(2026, 11, 5, 10, tzinfo=ZoneInfo("Asia/Jerusalem"))).date() == date(2026, 11, 8)


def test_the_close_of_day_keeps_its_local_hour_across_a_daylight_saving_change():
    new_york = WorkingCalendar("US", "America/New_York")
    due = conduct_decision_due(new_york, datetime(2026, 10, 30, 10, tzinfo=ZoneInfo("America/New_York")))
    assert due.date() == date(2026, 11, 2) and due.time() == time(18) and due.utcoffset() == timedelta(hours=-5)
    assert due.astimezone(UTC) == datetime(2026, 11, 2, 23, tzinfo=UTC)


@pytest.mark.parametrize(("published", "due"), [
    (ub(2026, 11, 23, 10), ub(2026, 11, 23, 18)),  # Monday morning → the same day's close
    (ub(2026, 11, 23, 17, 59), ub(2026, 11, 23, 18)),
    (ub(2026, 11, 23, 18, 0), ub(2026, 11, 24, 18)),  # at the close: counts as announced the next working day
    (ub(2026, 11, 23, 7, 0), ub(2026, 11, 23, 18)),  # before opening: that day
    (ub(2026, 11, 21, 10), ub(2026, 11, 23, 18)),  # Saturday → Monday
    (ub(2026, 11, 26, 10), ub(2026, 11, 27, 18)),  # Republic Day → Friday
])
def test_a_score_complaint_is_decided_within_the_working_hours_of_the_announcement_day(published, due):
    assert score_decision_due(MONGOLIA, published) == due


def test_working_hours_skip_nights_weekends_and_holidays():
    assert MONGOLIA.add_working_hours(ub(2026, 11, 20, 16), 4) == ub(2026, 11, 23, 11)  # Friday 16:00 + 4 h
    assert MONGOLIA.add_working_hours(ub(2026, 11, 25, 20), 1) == ub(2026, 11, 27, 10)  # over Republic Day
    assert MONGOLIA.add_working_hours(ub(2026, 11, 23, 10), 3) == ub(2026, 11, 23, 13)


def test_working_hours_must_make_a_day():
    with pytest.raises(ValueError):
        WorkingCalendar("MN", "Asia/Ulaanbaatar", day_starts=time(18), day_ends=time(9))


# --- The general rules ------------------------------------------------------------------------

ZONES = ["Asia/Ulaanbaatar", "Asia/Shanghai", "UTC", "America/New_York", "Europe/Berlin"]
moments = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC))
calendars = st.builds(
    WorkingCalendar,
    country=st.sampled_from(["MN", "CN", "US", "IL", "DE"]),
    time_zone=st.sampled_from(ZONES),
    day_starts=st.sampled_from([time(8), time(9), time(8, 30)]),
    day_ends=st.sampled_from([time(17), time(18), time(17, 30)]),
    extra_holidays=st.frozensets(st.dates(min_value=date(2025, 1, 1), max_value=date(2029, 1, 31)), max_size=20),
)


def _is_close_of_working_day(calendar: WorkingCalendar, moment: datetime) -> bool:
    local = calendar.local(moment)
    return calendar.is_working_day(local.date()) and local.time() == calendar.day_ends


def _working_days_between(calendar: WorkingCalendar, after: date, up_to: date) -> int:
    days, day = 0, after
    while day < up_to:
        day += timedelta(days=1)
        days += calendar.is_working_day(day)
    return days


def _working_time(calendar: WorkingCalendar, start: datetime, end: datetime) -> timedelta:
    total, day = timedelta(0), calendar.local(start).date()
    while calendar.opening_of(day) < end:
        if calendar.is_working_day(day):
            low, high = max(start, calendar.opening_of(day)), min(end, calendar.close_of(day))
            total += max(high - low, timedelta(0))
        day += timedelta(days=1)
    return total


@settings(max_examples=150, deadline=None)
@given(calendar=calendars, exam=moments, working_days=st.integers(min_value=1, max_value=4))
def test_conduct_deadline_is_the_close_of_exactly_the_nth_working_day_after_the_exam(calendar, exam, working_days):
    due = conduct_decision_due(calendar, exam, working_days)
    assert _is_close_of_working_day(calendar, due)
    exam_day = calendar.local(exam).date()
    assert calendar.local(due).date() > exam_day
    assert _working_days_between(calendar, exam_day, calendar.local(due).date()) == working_days


@settings(max_examples=150, deadline=None)
@given(calendar=calendars, published=moments)
def test_score_deadline_is_the_close_of_the_first_working_day_still_open_at_publication(calendar, published):
    due = score_decision_due(calendar, published)
    assert _is_close_of_working_day(calendar, due)
    assert due > published
    # No working day's close falls between the publication and the deadline.
    local_day = calendar.local(published).date()
    day = local_day
    while day < calendar.local(due).date():
        if calendar.is_working_day(day):
            assert calendar.close_of(day) <= published
        day += timedelta(days=1)


@settings(max_examples=150, deadline=None)
@given(calendar=calendars, start=moments, minutes=st.integers(min_value=0, max_value=60 * 40))
def test_adding_working_hours_adds_exactly_that_much_working_time(calendar, start, minutes):
    end = calendar.add_working_hours(start, minutes / 60)
    assert end >= start
    assert _working_time(calendar, start, end) == timedelta(minutes=minutes)
