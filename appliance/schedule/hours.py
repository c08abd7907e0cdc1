"""The gallery's opening hours: weekly ranges, closed dates, one time zone.

Times are wall-clock times in the gallery's zone ("10:00-18:00" stays 10:00-18:00 across a
daylight-saving change). A range whose end is not after its start runs past midnight
("20:00-02:00": a late opening), and "24:00" is the end of the day. A closed date closes the
ranges that start on it. Parsing is stdlib-only (`config check` stays light); a problem is one
line saying what was expected.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # date.weekday() order
RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
RANGES_EXPECTED = '"" (closed) or ranges like "10:00-18:00" or "10:00-13:00, 14:00-20:00"'
SEARCH_DAYS = 400  # how far ahead the next change is looked for (a year of closed dates)


@dataclass(frozen=True)
class Span:
    """One opening: minutes from the start of its day (end may pass 24:00, into the next day)."""

    start: int
    end: int


def parse_ranges(text: str) -> list[Span]:
    """'10:00-13:00, 14:00-20:00' -> spans; ValueError with the reason otherwise."""
    spans = []
    for part in filter(str.strip, text.split(",")):
        match = RANGE.match(part)
        if not match:
            raise ValueError(f"{part.strip()[:40]!r} is not a range like 10:00-18:00")
        h1, m1, h2, m2 = map(int, match.groups())
        if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
            raise ValueError(f"{part.strip()!r} has a time that does not exist")
        start, end = h1 * 60 + m1, h2 * 60 + m2
        spans.append(Span(start, end if end > start else end + 24 * 60))
    return spans


def ranges_problem(text: str) -> str | None:
    try:
        parse_ranges(text)
    except ValueError as exc:
        return str(exc)
    return None


def parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text[:40]!r} is not a date like 2026-12-25") from None


def dates_problem(dates: list) -> str | None:
    for text in dates:
        try:
            parse_date(text)
        except ValueError as exc:
            return str(exc)
    return None


def zone(name: str) -> dt.tzinfo:
    """The IANA zone `name`, or the box's own zone for ''; ValueError when unknown."""
    if not name:
        return dt.datetime.now().astimezone().tzinfo
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name[:40]!r} is not a known time zone") from None


def zone_problem(name: str) -> str | None:
    try:
        zone(name)
    except ValueError as exc:
        return str(exc)
    return None


class OpeningHours:
    """Whether the gallery is open at a moment, and when that next changes."""

    def __init__(self, week: dict[str, str], closed: list[str], timezone: str = ""):
        self.week = {day: parse_ranges(week.get(day, "")) for day in DAYS}
        self.closed = {parse_date(text) for text in closed}
        self.zone = zone(timezone)

    @classmethod
    def from_settings(cls, schedule) -> "OpeningHours":
        hours = schedule.hours
        return cls({day: getattr(hours, day) for day in DAYS}, schedule.closed, schedule.timezone)

    def _local(self, moment: dt.datetime) -> dt.datetime:
        """The wall-clock time in the gallery (naive: compared with the ranges as written)."""
        return moment.astimezone(self.zone).replace(tzinfo=None)

    def _openings(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        if day in self.closed:
            return []
        midnight = dt.datetime.combine(day, dt.time())
        return [(midnight + dt.timedelta(minutes=s.start), midnight + dt.timedelta(minutes=s.end))
                for s in self.week[DAYS[day.weekday()]]]

    def is_open(self, moment: dt.datetime) -> bool:
        local = self._local(moment)
        return any(start <= local < end
                   for day in (local.date() - dt.timedelta(days=1), local.date())
                   for start, end in self._openings(day))

    def next_change(self, moment: dt.datetime) -> dt.datetime | None:
        """The first moment after `moment` when is_open changes (aware, in the gallery's zone),
        or None when it never does within a year (no hours at all)."""
        local, now_open = self._local(moment), self.is_open(moment)
        edges = sorted(edge for offset in range(-1, SEARCH_DAYS)
                       for opening in self._openings(local.date() + dt.timedelta(days=offset))
                       for edge in opening if edge > local)
        for edge in edges:
            aware = edge.replace(tzinfo=self.zone)
            if self.is_open(aware) != now_open:
                return aware
        return None

    @property
    def any_hours(self) -> bool:
        return any(self.week.values())


def describe(moment: dt.datetime | None) -> str:
    """'Tue 10:00' for a change this week, else with its date; 'never' for None."""
    return "never" if moment is None else moment.strftime("%a %Y-%m-%d %H:%M")
