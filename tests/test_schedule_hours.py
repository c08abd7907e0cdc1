"""Opening hours as a gallery writes them, and the screen's sleep with and without HDMI-CEC."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from appliance.config import load_config
from appliance.errors import ConfigError
from appliance.schedule.hours import OpeningHours, parse_ranges
from appliance.schedule.screen import Cec, ScreenPower
from appliance.schedule.sleep import OpeningTimes

BERLIN = ZoneInfo("Europe/Berlin")
WEEK = {"mon": "", "tue": "10:00-18:00", "wed": "10:00-18:00", "thu": "10:00-18:00",
        "fri": "18:00-02:00", "sat": "10:00-13:00, 14:00-24:00", "sun": "12:00-17:00"}


def berlin(y, mo, d, h, mi=0) -> dt.datetime:
    return dt.datetime(y, mo, d, h, mi, tzinfo=BERLIN)


@pytest.fixture
def hours():
    return OpeningHours(WEEK, ["2026-12-24"], "Europe/Berlin")


@pytest.mark.parametrize("moment, expected", [
    (berlin(2026, 11, 30, 12), False),      # Monday: closed all day
    (berlin(2026, 12, 1, 9, 59), False),
    (berlin(2026, 12, 1, 10), True),         # Tuesday opens at 10:00 ...
    (berlin(2026, 12, 1, 17, 59), True),
    (berlin(2026, 12, 1, 18), False),        # ... and is closed at 18:00 sharp
    (berlin(2026, 12, 4, 23), True),         # Friday's late opening runs past midnight
    (berlin(2026, 12, 5, 1, 30), True),
    (berlin(2026, 12, 5, 2), False),
    (berlin(2026, 12, 5, 13, 30), False),    # Saturday's lunch break
    (berlin(2026, 12, 5, 23, 59), True),     # open to the end of the day
    (berlin(2026, 12, 24, 12), False),       # a closed date (a Thursday)
    (berlin(2026, 12, 31, 12), True),
])
def test_open_at(hours, moment, expected):
    assert hours.is_open(moment) is expected


def test_the_same_moment_in_another_zone_is_judged_in_the_gallerys(hours):
    tuesday_10_berlin = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.timezone.utc)
    assert hours.is_open(tuesday_10_berlin)
    assert not hours.is_open(tuesday_10_berlin - dt.timedelta(minutes=1))


def test_wall_clock_hours_hold_across_daylight_saving(hours):
    """2026-03-29 02:00 Berlin clocks go forward: Tuesday still opens at 10:00 local time,
    which is 08:00 UTC after the change and 09:00 UTC before it."""
    assert hours.is_open(dt.datetime(2026, 3, 31, 8, 0, tzinfo=dt.timezone.utc))
    assert not hours.is_open(dt.datetime(2026, 3, 31, 7, 59, tzinfo=dt.timezone.utc))
    assert hours.is_open(dt.datetime(2026, 3, 24, 9, 0, tzinfo=dt.timezone.utc))
    assert not hours.is_open(dt.datetime(2026, 3, 24, 8, 59, tzinfo=dt.timezone.utc))


def test_next_change_skips_closed_days_and_dates(hours):
    assert hours.next_change(berlin(2026, 11, 30, 9)) == berlin(2026, 12, 1, 10)  # Monday -> Tuesday
    assert hours.next_change(berlin(2026, 12, 1, 12)) == berlin(2026, 12, 1, 18)
    assert hours.next_change(berlin(2026, 12, 4, 20)) == berlin(2026, 12, 5, 2)   # past midnight
    assert hours.next_change(berlin(2026, 12, 23, 18)) == berlin(2026, 12, 25, 18)  # 24th closed
    # Saturday's "14:00-24:00" ends at midnight (Sunday opens at 12:00)
    assert hours.next_change(berlin(2026, 12, 5, 20)) == berlin(2026, 12, 6, 0)


def test_next_change_is_none_without_any_hours():
    assert OpeningHours({}, [], "UTC").next_change(dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)) is None


@pytest.mark.parametrize("text, problem", [
    ("10-18", "is not a range like 10:00-18:00"),
    ("10:00-18:60", "has a time that does not exist"),
    ("24:00-02:00", "has a time that does not exist"),
    ("10:00-18:00; 19:00-20:00", "is not a range"),
])
def test_bad_ranges_say_what_was_expected(text, problem):
    with pytest.raises(ValueError, match=problem):
        parse_ranges(text)


def test_config_problems_name_the_key(tmp_path):
    path = tmp_path / "a.toml"
    path.write_text('[schedule]\nenabled = true\ntimezone = "Mars/Olympus"\nclosed = ["25.12.2026"]\n'
                    '[schedule.hours]\nfri = "late"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    lines = caught.value.problems
    assert any(line.endswith("schedule.timezone: 'Mars/Olympus' is not a known time zone "
                             "(expected an IANA zone like Europe/Berlin)") for line in lines), lines
    assert any("schedule.closed: '25.12.2026' is not a date like 2026-12-25" in line for line in lines)
    assert any("schedule.hours.fri: 'late' is not a range" in line for line in lines)
    assert len(lines) == 3


def test_a_schedule_that_never_opens_is_refused(tmp_path):
    path = tmp_path / "a.toml"
    days = "".join(f'{day} = ""\n' for day in WEEK)
    path.write_text(f"[schedule]\nenabled = true\n[schedule.hours]\n{days}")
    with pytest.raises(ConfigError, match="schedule.hours: no day has opening hours"):
        load_config(path)


def test_off_by_default_always_runs():
    settings = load_config(None)
    assert not settings.schedule.enabled
    assert OpeningTimes(settings.schedule).should_run()


def test_keep_awake_lasts_its_time_then_the_hours_rule(tmp_path):
    path = tmp_path / "a.toml"
    path.write_text('[schedule]\nenabled = true\ntimezone = "Europe/Berlin"\nkeep_awake_s = 600\n'
                    '[schedule.hours]\nmon = ""\n')
    now = [berlin(2026, 11, 30, 20)]
    times = OpeningTimes(load_config(path).schedule, clock=lambda: now[0])
    assert not times.should_run()
    times.keep_awake()
    assert times.should_run()
    now[0] += dt.timedelta(seconds=599)
    assert times.should_run()
    reloaded = times.replaced(load_config(path).schedule)  # a config reload keeps it
    now[0] += dt.timedelta(seconds=2)
    assert not times.should_run() and not reloaded.should_run()


class Screen:
    """An output that keeps what it was shown (the black picture's seam)."""

    def __init__(self):
        self.shown, self.opened, self.closed = [], 0, 0

    def open(self, width, height, fps):
        self.opened += 1

    def show(self, image):
        self.shown.append(image)

    def commands(self):
        return []

    def close(self):
        self.closed += 1


def test_without_a_cec_adapter_the_screen_is_blacked_out(tmp_path, caplog):
    """The real cec-ctl where installed (it finds no adapter here), else none on PATH: either
    way the picture goes black and comes back, and the reason is logged once."""
    screen = Screen()
    cec = Cec(device=str(tmp_path / "no-cec0"))
    if shutil.which("cec-ctl") is None:
        cec.program = "cec-ctl-not-installed"
    power = ScreenPower("cec", cec, lambda: screen)
    assert power.sleep() == "black"
    power.keep()
    assert len(screen.shown) == 2 and all(not image.any() for image in screen.shown)
    assert isinstance(screen.shown[0], np.ndarray) and screen.shown[0].shape == (480, 640, 3)
    power.wake()
    assert screen.closed == 1 and power.state == "on"
    power.sleep()
    warnings = [r for r in caplog.records if "HDMI-CEC unavailable" in r.getMessage()]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]


def test_cec_standby_and_wake_are_sent_to_the_tv(tmp_path, monkeypatch):
    log = tmp_path / "calls"
    script = tmp_path / "cec-ctl"
    script.write_text(f'#!/bin/sh\necho "$*" >> {log}\n')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    screen = Screen()
    power = ScreenPower("cec", Cec("/dev/cec1"), lambda: screen)
    assert power.sleep() == "standby"
    power.wake()
    assert log.read_text().splitlines() == ["-d /dev/cec1 --playback", "-d /dev/cec1 --to 0 --standby",
                                            "-d /dev/cec1 --playback", "-d /dev/cec1 --to 0 --image-view-on"]
    assert screen.opened == 0  # the artwork's output was never taken for a black picture


def test_blank_never_touches_cec(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # a cec-ctl here would be found; there is none
    screen = Screen()
    power = ScreenPower("blank", Cec(), lambda: screen)
    assert power.sleep() == "black"
    power.wake()
    assert screen.opened == 1 and screen.closed == 1


def test_doctor_says_a_sleeping_box_is_asleep_not_broken(tmp_path):
    from appliance.app.doctor import check_stages
    from appliance.app.status import write_asleep
    write_asleep(tmp_path, "Tue 2026-12-01 10:00", "standby")
    finding = check_stages(tmp_path)
    assert finding.status == "OK"
    assert finding.text == "asleep (gallery closed) until Tue 2026-12-01 10:00, screen standby"
