"""The config's sections: one typed dataclass per TOML table, with each key's bounds and help.

A mode's effects carry their own `Params`, declared in each effect's module and found through
the registry (`appliance.core.registry`); nothing here imports an effect or a model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from appliance.config.schema import setting
from appliance.core import registry
from appliance.outputs import parse_output_spec
from appliance.sources import parse_source_spec


def _corners_check(corners: list) -> str | None:
    from appliance.outputs.keystone import corners_problem  # numpy, not OpenCV: `config check` stays light
    return corners_problem(corners)


def _spec_check(parse):
    """Adapt a spec parser that raises ValueError into a settings `check` returning the message."""
    def check(value: str) -> str | None:
        try:
            parse(value)
        except ValueError as exc:
            return str(exc)
        return None
    return check


@dataclass
class SourceSettings:
    spec: str = setting("auto", check=_spec_check(parse_source_spec),
                        expected="auto, picamera2, camera:N, sample, synthetic or a file path",
                        help="where frames come from")
    width: int = setting(640, min=16, max=4096, help="capture width for cameras and synthetic")
    height: int = setting(480, min=16, max=4096, help="capture height for cameras and synthetic")
    fps: float = setting(30.0, min=1.0, max=240.0, help="capture rate for cameras and synthetic")
    loop: bool = setting(False, help="start a video file again when it ends")
    realtime: bool = setting(True, help="play files at their own frame rate, like a camera")


@dataclass
class OutputSettings:
    spec: str = setting("auto", check=_spec_check(parse_output_spec),
                        expected="auto, window, hdmi, null, file:PATH.mp4 or file:PATH.png",
                        help="where frames go")
    title: str = setting("appliance", help="window title")
    rotation: int = setting(0, choices=(0, 90, 180, 270), help="turn the picture clockwise")
    fit: str = setting("fit", choices=("fit", "fill", "stretch"),
                       help="fit: whole picture, black bars; fill: cover the screen, crop; stretch")
    corners: list[list[float]] = setting(default_factory=list, check=_corners_check,
                                         expected="4 [x, y] pairs, fractions of the screen, e.g. "
                                                  "[[0.05, 0], [0.95, 0], [1, 1], [0, 1]]",
                                         help="corner pin for a projector at an angle: where the "
                                              "picture's top-left, top-right, bottom-right and "
                                              "bottom-left corners go on the screen ([] off; see "
                                              "`appliance test-pattern`)")


@dataclass
class RunSettings:
    mode: str = setting("passthrough", help="the mode shown at start")
    frames: int = setting(0, min=0, help="stop after this many output frames (0: never)")


@dataclass
class LoggingSettings:
    level: str = setting("info", choices=("debug", "info", "warning", "error"))
    stats_every_s: float = setting(60.0, min=0.0, max=86400.0,
                                   help="log a stats line this often (0: never)")


@dataclass
class ModelSettings:
    dir: str = setting("", help="models folder with manifest.toml (empty: models_tflite/ of the install)")
    runtime: str = setting("auto", choices=("auto", "ai_edge_litert", "tflite_runtime"),
                           help="TFLite runtime (auto: ai-edge-litert, else tflite-runtime)")
    threads: int = setting(0, min=0, max=16,
                           help="CPU threads per model (0: one fewer than the cores, leaving one "
                                "to the display loop)")
    edgetpu: str = setting("auto", choices=("auto", "off"),
                           help="use NAME_edgetpu.tflite beside a model when a Coral is present")
    pose: str = setting("movenet_multipose", help="pose model (see `appliance models list`)")
    pose_crops: str = setting("motion", choices=("motion", "whole"),
                              help="motion: the multi-person model is shown the regions where people "
                                   "move, cropped and packed into its input (far visitors found); "
                                   "whole: the whole frame, shrunk to the model's input")
    person_masks: str = setting("motion", choices=("motion", "model"),
                                help="motion: person masks are the moving shapes against the learned "
                                     "room, with the segmentation model for people standing still "
                                     "(sharp on people far away); model: the segmentation model alone")
    low_memory: str = setting("auto", choices=("auto", "on", "off"),
                              help="on: the style networks run without XNNPACK (about 200 MB less "
                                   "with a style mode shown, keyframes about 2x slower); auto: on "
                                   "when the board has under 1.5 GB of RAM (a 1 GB Pi 4)")


@dataclass
class GpioSettings:
    enabled: bool = setting(False, help="read buttons and drive the status LED")
    next_pin: int = setting(17, min=0, max=27, help="BCM pin of the next-mode button (to ground)")
    previous_pin: int = setting(0, min=0, max=27, help="BCM pin of the previous-mode button (0: none)")
    led_pin: int = setting(0, min=0, max=27, help="BCM pin of the status LED (0: none)")
    long_press_s: float = setting(2.0, min=0.5, max=30.0,
                                  help="hold this long for a long press: on next, teach a pose; on "
                                       "previous, save the evening's painting")
    shutdown_press_s: float = setting(0.0, min=0.0, max=60.0,
                                      help="hold this long to shut down safely (0: off)")
    bounce_s: float = setting(0.05, min=0.0, max=1.0, help="debounce time")


def _host_check(host: str) -> str | None:
    """An address or a name that could be looked up (whether it resolves is only known on the
    network, at run time: the sender then retries)."""
    if not host or len(host) > 253 or any(c.isspace() or ord(c) < 32 for c in host):
        return f"{host[:40]!r} is empty, too long, or has spaces or control characters"
    try:
        host.encode("idna")
    except UnicodeError:
        return f"{host[:40]!r} has a part that is empty or longer than 63 characters"
    return None


@dataclass
class OscSettings:
    enabled: bool = setting(False, help="send pose events over OSC (UDP)")
    host: str = setting("127.0.0.1", check=_host_check, expected="an address or a host name",
                        help="the sound or light desk's address")
    port: int = setting(9000, min=1, max=65535)
    keypoints_hz: float = setting(0.0, min=0.0, max=60.0,
                                  help="also send /pose/<id>/keypoints this often (0: never)")
    listen_port: int = setting(0, min=0, max=65535,
                               help="take OSC commands (/painting/save) on this UDP port (0: off; "
                                    "nothing listens on the network unless set)")
    listen_host: str = setting("127.0.0.1", check=_host_check, expected="an address to listen on",
                               help="the address commands are taken on: 127.0.0.1 only from this "
                                    "box, 0.0.0.0 from the whole network")


@dataclass
class ReactionSettings:
    pose: str = setting("", help="a named or taught pose")
    people: int = setting(1, min=1, max=6, help="how many people must hold it at once")
    action: str = setting("", help="next_mode, previous_mode, mode:NAME or effect:EVENT")
    scope: str = setting("box", choices=("box", "show"),
                         help="box: this box only; show: every box of the [show] (this one alone "
                              "when it plays alone)")


@dataclass
class PoseSettings:
    enabled: bool = setting(False, help="watch for poses (runs the [models] pose model)")
    rules: str = setting("", help="named poses file (empty: the built-in poses.toml)")
    mirror: bool = setting(True, help="visitors see a mirror: their left is the screen's left")
    examples: str = setting("", help="taught poses file (empty: taught-poses.json in the state dir)")
    osc: OscSettings = field(default_factory=OscSettings)
    reactions: list[ReactionSettings] = field(default_factory=list)


@dataclass
class WebSettings:
    enabled: bool = setting(False, help="serve the technician's page (set its password first with "
                                        "`appliance password`; nothing listens while false)")
    host: str = setting("0.0.0.0", check=_host_check, expected="an address to listen on",
                        help="the address the page is served on: 0.0.0.0 the whole local network, "
                             "127.0.0.1 only this box (e.g. through an SSH tunnel)")
    port: int = setting(8080, min=1, max=65535, help="the page's TCP port")
    preview_fps: float = setting(2.0, min=0.2, max=10.0,
                                 help="live preview pictures per second, at most (encoded only "
                                      "while a page asks for them)")
    preview_width: int = setting(480, min=64, max=1920, help="live preview width in pixels")


@dataclass
class EffectSettings:
    """One step of a mode: an effect name and its typed parameters."""

    effect: str
    params: Any


@dataclass
class ModeSettings:
    description: str = setting("", help="what a visitor sees")
    effects: list[EffectSettings] = field(default_factory=list)
    idle_after_s: float = setting(0.0, min=0.0, max=86400.0,
                                  help="with nobody seen this long, play the `attract` mode until the "
                                       "first visitor is found (0: never)")
    attract: str = setting("kandinsky-world", help="the mode the empty room plays (another mode's name)")


def default_modes() -> dict[str, ModeSettings]:
    return {
        "passthrough": ModeSettings("The picture as the camera sees it.", []),
        "mirror": ModeSettings("The picture flipped left-right, like a mirror.",
                               [_effect("mirror")]),
        "aged-film": ModeSettings("The room turns into old film that falls apart and heals.",
                                  [_effect("film"), _mirror()]),
        "generation-loss": ModeSettings("A still of the room decays and is restored, losing more each time.",
                                        [_effect("generations"), _mirror()]),
        "kandinsky": ModeSettings("Everything painted in Kandinsky's colours and strokes.",
                                  [_effect("style"), _mirror()]),
        "kandinsky-people": ModeSettings("Only the visitors are painted; the room stays real.",
                                         [_effect("style"), _effect("mask", keep="room"), _mirror()]),
        "kandinsky-room": ModeSettings("The room is painted around the visitors, who stay real.",
                                       [_effect("style"), _effect("mask", keep="people"), _mirror()]),
        "kandinsky-world": ModeSettings("The room becomes a Kandinsky world that answers the visitors.",
                                        [_effect("world"), _mirror()]),
        "motion-painting": ModeSettings("Dancers leave painted strokes behind their hands and feet.",
                                        [_effect("trails"), _effect("skeleton"), _mirror()]),
        "evening": ModeSettings("Everyone's movement painted into one canvas that lasts the evening.",
                                [_effect("evening"), _mirror()]),
        "skeleton": ModeSettings("Visitors replaced by their bright skeletons on black.",
                                 [_effect("skeleton", background="black"), _mirror()]),
        "anonymizer": ModeSettings("Privacy: the empty room, visitors as silhouettes and skeletons.",
                                   [_effect("anonymizer", show="both"), _mirror()]),
    }


def _effect(name: str, **params: Any) -> EffectSettings:
    return EffectSettings(name, registry.effect(name).Params(**params))


def _mirror() -> EffectSettings:
    """Last in a mode, so analysis sees the camera's picture and everything drawn flips with it."""
    return _effect("mirror")


def _check(problem_of):
    """A schedule check from appliance.schedule.hours (stdlib only: `config check` stays light)."""
    def check(value):
        from appliance.schedule import hours
        return getattr(hours, problem_of)(value)
    return check


def _day(default: str = "10:00-18:00") -> Any:
    return setting(default, check=_check("ranges_problem"), expected="\"\" (closed) or ranges like "
                   "\"10:00-18:00\" or \"10:00-13:00, 14:00-20:00\"")


@dataclass
class WeekSettings:
    """Opening hours per weekday, wall-clock time in [schedule] timezone."""

    mon: str = _day()
    tue: str = _day()
    wed: str = _day()
    thu: str = _day()
    fri: str = _day()
    sat: str = _day()
    sun: str = _day()


@dataclass
class ScheduleSettings:
    enabled: bool = setting(False, help="sleep outside opening hours (screen off, camera closed)")
    timezone: str = setting("", check=_check("zone_problem"), expected="an IANA zone like Europe/Berlin",
                            help="the gallery's time zone ('': the box's own)")
    hours: WeekSettings = field(default_factory=WeekSettings)
    closed: list[str] = setting(default_factory=list, check=_check("dates_problem"),
                                expected="dates like \"2026-12-25\"", help="dates the gallery is closed")
    keep_awake_s: float = setting(3600.0, min=60.0, max=86400.0,
                                  help="a button press or OSC /awake keeps it awake this long")
    screen: str = setting("cec", choices=("cec", "blank"),
                          help="cec: HDMI-CEC standby (black picture where CEC fails); blank: black only")
    cec_device: str = setting("/dev/cec0", help="the CEC adapter cec-ctl talks to")


def _show_name(value: str) -> str | None:
    from appliance.show.messages import name_problem  # stdlib only: `config check` stays light
    return name_problem(value)


def _show_names(values: list) -> str | None:
    return next((problem for problem in map(_show_name, values) if problem), None)


NAME_EXPECTED = "letters, digits, '-', '_' or '.', at most 64 (no '/', '+', '#' or spaces)"


@dataclass
class ShowSettings:
    enabled: bool = setting(False, help="play together with other boxes through an MQTT broker "
                                        "(nothing listens on this box: it connects out)")
    broker: str = setting("127.0.0.1", check=_host_check, expected="an address or a host name",
                          help="the MQTT broker's address (mosquitto on one box or a server)")
    port: int = setting(1883, min=1, max=65535, help="the broker's port (8883 is usual with TLS)")
    name: str = setting("gallery", check=_show_name, expected=NAME_EXPECTED,
                        help="the show: every box with this name plays together (topics show/NAME/...)")
    box: str = setting("", check=lambda v: _show_name(v) if v else None, expected=NAME_EXPECTED,
                       help="this box's name in the show ('': the machine's host name)")
    boxes: list[str] = setting(default_factory=list, check=_show_names, expected=NAME_EXPECTED,
                               help="the show's boxes; messages from any other are dropped ([] any box)")
    username: str = setting("", help="the broker's user name ('': none)")
    password_file: str = setting("", help="a file holding the broker password, so it is not in "
                                          "this config ('': none)")
    tls: bool = setting(False, help="connect with TLS (the broker's certificate is checked)")
    ca_file: str = setting("", help="CA certificates to check the broker with ('': the system's)")
    shared_clock: bool = setting(True, help="the film's decay cycle and the generated world's motion "
                                            "follow the show's clock (the boxes' NTP wall clock), so "
                                            "boxes started at different times play in phase")


@dataclass
class Settings:
    source: SourceSettings = field(default_factory=SourceSettings)
    output: OutputSettings = field(default_factory=OutputSettings)
    run: RunSettings = field(default_factory=RunSettings)
    logging: LoggingSettings = field(default_factory=LoggingSettings)
    models: ModelSettings = field(default_factory=ModelSettings)
    gpio: GpioSettings = field(default_factory=GpioSettings)
    poses: PoseSettings = field(default_factory=PoseSettings)
    web: WebSettings = field(default_factory=WebSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    show: ShowSettings = field(default_factory=ShowSettings)
    modes: dict[str, ModeSettings] = field(default_factory=default_modes)
