"""Buttons and LED through gpiozero's MockFactory: pins driven like real presses."""

from __future__ import annotations

import threading
import time

import pytest

gpiozero = pytest.importorskip("gpiozero")
from gpiozero.pins.mock import MockFactory  # noqa: E402

from appliance.config import GpioSettings, Settings  # noqa: E402
from appliance.device.buttons import classify_press  # noqa: E402
from appliance.device.controls import DeviceControls  # noqa: E402
from appliance.outputs.null import NullOutput  # noqa: E402
from appliance.core.pipeline import Pipeline, PipelineOptions  # noqa: E402
from appliance.sources.synthetic import SyntheticSource  # noqa: E402


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def factory():
    f = MockFactory()
    yield f
    f.reset()


def press(pin, clock: FakeClock, seconds: float) -> None:
    pin.drive_low()  # buttons pull up; pressing connects the pin to ground
    clock.now += seconds
    pin.drive_high()


def make_controls(factory, clock, **gpio):
    settings = GpioSettings(enabled=True, next_pin=17, previous_pin=27, led_pin=22,
                            bounce_s=0.0, **gpio)
    pipeline = Pipeline(SyntheticSource(160, 120, 30), NullOutput(), Settings().modes, "passthrough",
                        options=PipelineOptions(realtime=True))
    shutdowns = []
    controls = DeviceControls(pipeline, settings, pin_factory=factory, shutdown=lambda: shutdowns.append(1))
    controls.panel.clock = clock
    return pipeline, controls, shutdowns


def test_short_presses_step_through_modes_and_back(factory):
    clock = FakeClock()
    pipeline, controls, _ = make_controls(factory, clock)
    names = list(pipeline.modes)
    seen = []
    for _ in range(len(names)):
        press(factory.pin(17), clock, 0.2)
        seen.append(pipeline._pending_mode)
        pipeline.mode_name = pipeline._pending_mode
    assert seen == names[1:] + names[:1]             # through every mode and round to the first
    press(factory.pin(27), clock, 0.1)
    assert pipeline._pending_mode == names[-1]       # previous from the first wraps to the last
    controls.close()


def test_long_press_teaches_and_very_long_press_shuts_down_only_when_enabled(factory, caplog):
    clock = FakeClock()
    pipeline, controls, shutdowns = make_controls(factory, clock, long_press_s=2.0,
                                                  shutdown_press_s=8.0)
    press(factory.pin(17), clock, 3.0)
    assert pipeline._pending_mode is None and not shutdowns
    assert "teaching needs [poses] enabled = true" in caplog.text
    press(factory.pin(17), clock, 9.0)
    assert shutdowns == [1] and pipeline._stop.is_set()
    controls.close()
    assert classify_press(30.0, 2.0, 0.0) == "long"  # shutdown off: a very long press is long


def test_previous_button_long_press_saves_the_painting_short_press_goes_back(factory, caplog):
    clock = FakeClock()
    settings = GpioSettings(enabled=True, next_pin=17, previous_pin=27, bounce_s=0.0, long_press_s=2.0)
    pipeline = Pipeline(SyntheticSource(160, 120, 30), NullOutput(), Settings().modes, "passthrough")
    saved = []
    controls = DeviceControls(pipeline, settings, pin_factory=factory, save_painting=lambda: saved.append(1))
    controls.panel.clock = clock
    press(factory.pin(27), clock, 2.5)
    assert saved == [1] and pipeline._pending_mode is None
    press(factory.pin(27), clock, 0.3)
    assert saved == [1] and pipeline._pending_mode == list(pipeline.modes)[-1]
    controls.close()
    pipeline._pending_mode = None
    unwired = DeviceControls(pipeline, settings, pin_factory=factory)  # nothing to save with
    unwired.panel.clock = clock
    press(factory.pin(27), clock, 2.5)
    assert pipeline._pending_mode is None and "no painting can be saved here" in caplog.text
    unwired.close()


def test_mode_switch_by_button_reaches_the_running_pipeline(factory):
    clock = FakeClock()
    pipeline, controls, _ = make_controls(factory, clock)
    pipeline.observers.append(controls)
    runner = threading.Thread(target=pipeline.run)
    runner.start()
    time.sleep(0.3)
    press(factory.pin(17), clock, 0.2)
    deadline = time.monotonic() + 5
    while pipeline.mode_name != "mirror" and time.monotonic() < deadline:
        time.sleep(0.02)
    pipeline.stop("test")
    runner.join(5)
    assert pipeline.mode_name == "mirror"


def test_led_shows_booting_then_running(factory):
    clock = FakeClock()
    pipeline, controls, _ = make_controls(factory, clock)
    led_pin = factory.pin(22)
    time.sleep(0.55)  # booting: 0.1 s on, 0.1 s off
    toggles = len(led_pin.states)
    assert toggles >= 5
    controls.frame_shown(pipeline)
    time.sleep(0.2)
    assert led_pin.state is True
    settled = len(led_pin.states)
    time.sleep(0.3)
    assert len(led_pin.states) == settled  # steady: no more changes
    controls.close()


def test_led_patterns_are_distinct(factory):
    from appliance.device.led import PATTERNS
    assert len({str(p) for p in PATTERNS.values()}) == len(PATTERNS)


def test_gpio_config_cross_checks(tmp_path):
    from appliance.config import load_config
    from appliance.errors import ConfigError
    path = tmp_path / "a.toml"
    path.write_text("[gpio]\nnext_pin = 17\nled_pin = 17\nshutdown_press_s = 1.0\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    text = "\n".join(caught.value.problems)
    assert "gpio: two functions share a pin" in text
    assert "gpio.shutdown_press_s: 1.0 must be longer than long_press_s" in text


def test_without_gpio_hardware_the_appliance_runs_on(monkeypatch, caplog):
    from appliance.device.controls import attach_controls
    monkeypatch.delenv("GPIOZERO_PIN_FACTORY", raising=False)
    pipeline = Pipeline(SyntheticSource(160, 120, 30), NullOutput(), Settings().modes, "passthrough")
    assert attach_controls(pipeline, GpioSettings(enabled=True)) is None
    assert "gpio: buttons and LED unavailable" in caplog.text


def test_led_says_error_while_the_mode_cannot_run_or_the_camera_is_lost(factory, monkeypatch):
    """The "error" pattern (one short flash a second) is what an installer sees from across the
    room when the screen shows a card: a mode whose model is missing, or a lost camera."""
    from appliance.config import EffectSettings, ModeSettings
    from appliance.core.modes import Mode
    from appliance.core.registry import EFFECTS
    from stagekit import NeedsAModel

    monkeypatch.setitem(EFFECTS, "needs-model", NeedsAModel)
    pipeline, controls, _ = make_controls(factory, FakeClock())
    led_pin = factory.pin(22)
    pipeline.mode = Mode("broken", ModeSettings("", [EffectSettings("needs-model", NeedsAModel.Params())]))
    assert pipeline.mode.error
    controls.frame_shown(pipeline)
    assert controls.led.state == "error"
    before = len(led_pin.states)
    time.sleep(1.1)
    assert len(led_pin.states) - before >= 2  # flashing, not steady
    pipeline.mode = Mode("passthrough", Settings().modes["passthrough"])
    pipeline.capture.lost = "camera 0 unplugged"
    controls.frame_shown(pipeline)
    assert controls.led.state == "error"
    pipeline.capture.lost = None
    controls.frame_shown(pipeline)
    time.sleep(0.15)
    assert controls.led.state == "running" and led_pin.state is True
    controls.close()
