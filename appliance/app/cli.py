"""The `appliance` command. Every ApplianceError becomes one clear line and an exit code."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from appliance import __version__, paths
from appliance.config import Settings, apply_overrides, dump_toml, load_config
from appliance.errors import ApplianceError, ConfigError, SourceError

log = logging.getLogger("appliance")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    try:
        return args.handler(args)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return exc.exit_code
    except ApplianceError as exc:
        print(f"appliance: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="appliance", description=__doc__)
    parser.add_argument("--version", action="version", version=f"appliance {__version__}")
    sub = parser.add_subparsers(title="commands")
    _add_run_commands(sub)
    _add_bench_commands(sub)
    _add_offline_commands(sub)
    _add_models_commands(sub)
    _add_poses_commands(sub)
    _add_admin_commands(sub)
    return parser


def _add_run_commands(sub: argparse._SubParsersAction) -> None:
    """run and service: the artwork live"""
    run = sub.add_parser("run", help="run the artwork: source -> mode -> output")
    _add_pipeline_args(run)
    run.add_argument("--output", help="auto, window, hdmi, null, file:PATH.mp4 or file:PATH.png")
    run.add_argument("--frames", type=int, help="stop after N output frames (0: never)")
    run.add_argument("--loop", action="store_true", default=None, help="start a file again at its end")
    run.set_defaults(handler=cmd_run)

    service = sub.add_parser("service", help="run as the systemd service: survives bad configs, "
                             "reloads on SIGHUP")
    service.add_argument("--config", type=Path, help="TOML config file")
    service.add_argument("--state-dir", type=Path, help="writable folder for the last good config "
                         "(default: $STATE_DIRECTORY, i.e. /var/lib/appliance under systemd)")
    service.set_defaults(handler=cmd_service)

    pattern = sub.add_parser("test-pattern", help="show the card to set a projector's [output] corners "
                             "by (grid, centre circle, named corners), through the configured output")
    pattern.add_argument("--config", type=Path, help="TOML config file (its [output] corners, rotation, fit)")
    pattern.add_argument("--output", help="auto, window, hdmi, null, file:PATH.png (default: the config's)")
    pattern.add_argument("--seconds", type=float, default=600.0, help="how long to show it (default 600; "
                         "Esc closes a window)")
    pattern.set_defaults(handler=cmd_test_pattern)

    snapshot = sub.add_parser("snapshot", help="save the evening's painting as a PNG in the state "
                              "folder and print its path (the running service saves what it has "
                              "painted; without one, the canvas it kept)")
    snapshot.add_argument("--state-dir", type=Path, help="the service's state folder (default: as "
                          "`appliance service` finds it)")
    snapshot.add_argument("--wait", type=float, default=10.0, help="seconds to wait for the "
                          "service's PNG (default 10)")
    snapshot.set_defaults(handler=cmd_snapshot)


def _add_bench_commands(sub: argparse._SubParsersAction) -> None:
    """bench and bench-table: the budgets"""
    bench = sub.add_parser("bench", help="measure the pipeline with null output")
    _add_pipeline_args(bench)
    bench.add_argument("--frames", type=int, default=300, help="frames to measure (default 300)")
    bench.add_argument("--realtime", action="store_true",
                       help="pace files like a camera and count dropped frames "
                            "(default: as fast as the display loop takes them)")
    bench.add_argument("--json", type=Path, help="also write the results to this JSON file")
    bench.add_argument("--all", action="store_true",
                       help="every budget in one run: every mode paced like a camera, the bare "
                            "models, the pose stage, style, memory, a soak and start-up")
    bench.add_argument("--soak-frames", type=int, default=10_000,
                       help="with --all: frames of the memory soak (default 10000)")
    bench.add_argument("--generation-loss", action="store_true",
                       help="only the generation-loss figures: the clip's empty room decayed and restored "
                            "8 times, SSIM to the room per generation, as a Markdown table (a few seconds)")
    bench.add_argument("--models", action="store_true",
                       help="also time every shipped model's bare invoke (1 thread and [models] "
                            "threads) under every installed runtime")
    bench.set_defaults(handler=cmd_bench)

    table = sub.add_parser("bench-table", help="the budgets and the Pi projection, as Markdown, "
                           "from a `bench --all` JSON")
    table.add_argument("file", type=Path, help="the JSON `appliance bench --all --json` wrote")
    table.add_argument("--readme", type=Path, help="rewrite this file's bench-table section instead of printing")
    table.set_defaults(handler=cmd_bench_table)


def _add_offline_commands(sub: argparse._SubParsersAction) -> None:
    """render and contact-sheet: the artwork offline, frame for frame"""
    render = sub.add_parser("render", help="render a mode offline, every frame analysed: the "
                            "result is the same on a slow or a fast machine")
    render.add_argument("source", help="sample, synthetic, or a video/image path")
    render.add_argument("--mode", required=True)
    render.add_argument("-o", "--output", type=Path, required=True, help="OUT.mp4, OUT.avi or OUT.png")
    render.add_argument("--frames", type=int, default=0, help="render N frames (0: the whole clip; "
                        "a .png gets the last)")
    render.add_argument("--config", type=Path)
    render.set_defaults(handler=cmd_render)

    sheet = sub.add_parser("contact-sheet", help="one picture of every mode on the sample clip")
    sheet.add_argument("-o", "--output", type=Path, default=paths.CONTACT_SHEET)
    sheet.add_argument("--source", default="sample")
    sheet.add_argument("--frames", type=int, default=200, help="frames rendered per mode (the "
                       "last one is shown; the clip loops)")
    sheet.add_argument("--modes", help="comma-separated modes (default: all)")
    sheet.add_argument("--config", type=Path)
    sheet.set_defaults(handler=cmd_contact_sheet)


def _add_models_commands(sub: argparse._SubParsersAction) -> None:
    """models list and verify"""
    models = sub.add_parser("models", help="list or verify the shipped models")
    models_sub = models.add_subparsers(title="models commands")
    for name, handler, text in (("list", cmd_models_list, "list the models in the manifest"),
                                ("verify", cmd_models_verify, "check every model's file, sha256 "
                                 "and tensor shapes against the manifest")):
        cmd = models_sub.add_parser(name, help=text)
        cmd.add_argument("--config", type=Path, help="TOML config file (for [models])")
        cmd.set_defaults(handler=handler)


def _add_poses_commands(sub: argparse._SubParsersAction) -> None:
    """pose, and poses record/events/teach"""
    pose = sub.add_parser("pose", help="print the poses found in a source, frame by frame")
    pose.add_argument("source", help="sample, synthetic, camera:N, picamera2, a video/image path, "
                      "or a recorded .jsonl pose stream")
    pose.add_argument("--model", help="pose model name (default: [models] pose)")
    pose.add_argument("--json", action="store_true", help="one JSON line per frame")
    pose.add_argument("--frames", type=int, default=0, help="stop after N frames (0: all)")
    pose.add_argument("--config", type=Path, help="TOML config file")
    pose.set_defaults(handler=cmd_pose)

    poses = sub.add_parser("poses", help="record, replay and teach poses")
    poses_sub = poses.add_subparsers(title="poses commands")
    record = poses_sub.add_parser("record", help="write the pose stream of SOURCE as JSON lines")
    record.add_argument("source")
    record.add_argument("-o", "--output", type=Path, required=True, help="FILE.jsonl")
    record.add_argument("--frames", type=int, default=0, help="stop after N frames (0: all)")
    record.set_defaults(handler=cmd_poses_record)
    events = poses_sub.add_parser("events", help="the pose events of SOURCE (a clip, a camera or a "
                                  "recorded .jsonl)")
    events.add_argument("source")
    events.add_argument("--json", action="store_true", help="one JSON line per event")
    events.set_defaults(handler=cmd_poses_events)
    teach = poses_sub.add_parser("teach", help="record about 2 s of one person holding a pose")
    teach.add_argument("name", help="the new pose's name")
    teach.add_argument("--source", default="auto", help="where the person is (default: auto)")
    teach.add_argument("--seconds", type=float, default=2.0)
    teach.set_defaults(handler=cmd_poses_teach)
    for cmd in (record, events, teach):
        cmd.add_argument("--model", help="pose model (default: [models] pose)")
        cmd.add_argument("--config", type=Path, help="TOML config file")


def _add_admin_commands(sub: argparse._SubParsersAction) -> None:
    """doctor, config check/show and password: for the installer"""
    from appliance.app.password import add_password_command
    add_password_command(sub)
    doctor = sub.add_parser("doctor", help="check camera, screen, models, GPIO, heat, disk and "
                            "the running service's analysis stages, for an installer")
    doctor.add_argument("--config", type=Path, help="TOML config file")
    doctor.add_argument("--state-dir", type=Path, help="the service's state folder (default: as "
                        "`appliance service` finds it)")
    doctor.set_defaults(handler=cmd_doctor)

    config = sub.add_parser("config", help="check or show the config")
    config_sub = config.add_subparsers(title="config commands")
    check = config_sub.add_parser("check", help="validate a config file, listing every problem")
    check.add_argument("file", type=Path)
    check.set_defaults(handler=cmd_config_check)
    show = config_sub.add_parser("show", help="print the effective config as TOML")
    show.add_argument("--config", type=Path, help="config file (default: built-in defaults)")
    show.set_defaults(handler=cmd_config_show)


def _add_pipeline_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, help="TOML config file (default: built-in defaults)")
    p.add_argument("--source", help="auto, picamera2, camera:N, sample, synthetic or a file path")
    p.add_argument("--mode", help="mode to show (see `appliance config show`)")
    p.add_argument("--log-level", choices=("debug", "info", "warning", "error"))


def load_settings(args: argparse.Namespace) -> Settings:
    settings = load_config(args.config)
    overrides = {"--source": args.source, "--mode": args.mode,
                 "--output": getattr(args, "output", None), "--frames": args.frames}
    settings = apply_overrides(settings, overrides)
    if getattr(args, "loop", None):
        settings.source.loop = True
    if args.log_level:
        settings.logging.level = args.log_level
    setup_logging(settings.logging.level)
    return settings


class JournalFormatter(logging.Formatter):
    """Under systemd, stderr goes to the journal: a "<N>" prefix carries each line's level."""

    PRIORITIES = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3,
                  logging.CRITICAL: 2}

    def format(self, record: logging.LogRecord) -> str:
        priority = self.PRIORITIES.get(record.levelno, 6)
        return "\n".join(f"<{priority}>{line}" for line in super().format(record).splitlines())


def setup_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if os.environ.get("JOURNAL_STREAM"):
        handler.setFormatter(JournalFormatter("%(name)s: %(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def cmd_run(args: argparse.Namespace) -> int:
    from appliance.app.runner import build_pipeline, run_pipeline

    settings = load_settings(args)
    summary = run_pipeline(build_pipeline(settings))
    for line in summary.lines():
        print(line)
    if summary.error:
        print(f"appliance: {summary.error}", file=sys.stderr)
        return 3
    return 0


def cmd_service(args: argparse.Namespace) -> int:
    from appliance.app.service import Service

    setup_logging("info")
    return Service(args.config, paths.state_dir(args.state_dir)).run()


def cmd_snapshot(args: argparse.Namespace) -> int:
    from appliance.app.paintings import snapshot

    if not args.wait > 0:
        raise ConfigError([f"--wait: {args.wait} is out of range (expected a value > 0)"])
    setup_logging("warning")
    print(snapshot(paths.state_dir(args.state_dir), args.wait))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from appliance.bench.run import run_bench

    if args.frames < 1:
        raise ConfigError([f"--frames: {args.frames} is out of range (expected a value >= 1)"])
    if args.soak_frames < 1:
        raise ConfigError([f"--soak-frames: {args.soak_frames} is out of range (expected a value >= 1)"])
    if args.generation_loss:
        from appliance.bench.generations import print_generation_loss
        return print_generation_loss(args.json)
    settings = load_settings(args)
    if args.all:
        from appliance.bench.budgets import run_all
        report = run_all(settings, args.config, args.frames, args.soak_frames)
    else:
        report = run_bench(settings, realtime=args.realtime)
        for line in report["summary_lines"]:
            print(line)
    if args.models and not args.all:
        from appliance.bench.models import model_lines
        from appliance.bench.run import run_model_bench
        report["models"] = run_model_bench(settings)
        for line in model_lines(report["models"]):
            print(line)
    if args.json:
        from appliance.atomic import atomic_write_text
        atomic_write_text(args.json, json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


def cmd_bench_table(args: argparse.Namespace) -> int:
    from appliance.bench.report import arm_counts_beside, markdown, update_readme

    try:
        report = json.loads(args.file.read_text(encoding="utf-8"))
        text = markdown(report, args.file.as_posix(), arm_counts_beside(args.file))
    except (OSError, ValueError) as exc:
        raise ConfigError([f"{args.file}: cannot read it as a bench JSON ({exc})"]) from None
    except (KeyError, TypeError) as exc:
        raise ConfigError([f"{args.file}: {exc} missing or malformed (expected `appliance bench --all --json` output)"]) from None
    if args.readme:
        try:
            update_readme(args.readme, text)
        except (OSError, ValueError) as exc:
            raise ConfigError([str(exc)]) from None
        print(f"updated {args.readme}")
    else:
        print(text, end="")
    return 0


def cmd_config_check(args: argparse.Namespace) -> int:
    load_config(args.file)
    print(f"{args.file}: ok")
    return 0


def cmd_config_show(args: argparse.Namespace) -> int:
    print(dump_toml(load_config(args.config)), end="")
    return 0


def _store(args: argparse.Namespace):
    from appliance.models.manifest import ModelStore
    settings = _quiet_settings(args)
    return ModelStore.from_settings(settings.models), settings


def cmd_models_list(args: argparse.Namespace) -> int:
    store, _ = _store(args)
    print(f"models in {store.dir}:")
    for name, entry in store.entries.items():
        image = next((i for i in entry.inputs if len(i.shape) == 4 and i.shape[-1] == 3), entry.inputs[0])
        shape = "x".join(str(v) for v in image.shape[1:3])
        print(f"  {name:<26} {entry.task:<15} {entry.raw['quantization']:<26} {shape:>8}  "
              f"{_fidelity_note(entry.raw.get('fidelity', {}))}")
    return 0


def _fidelity_note(fidelity: dict) -> str:
    """The headline fidelity number of a manifest entry, whatever kind of model it is."""
    for key, text in (("mean_keypoint_error_px", "keypoint error {:.2f} px"), ("iou", "mask IoU {:.3f}"),
                      ("mean_abs_diff", "mean abs diff {:.4f}")):
        if key in fidelity:
            return text.format(fidelity[key]) + " vs float"
    return ""


def cmd_models_verify(args: argparse.Namespace) -> int:
    store, _ = _store(args)
    problems = store.verify_all()
    for name, problem in problems.items():
        print(f"FAIL {problem}" if problem else f"ok   {name}")
    bad = sum(1 for p in problems.values() if p)
    print(f"{len(problems) - bad} of {len(problems)} models verified with {store.runtime.label}")
    return 5 if bad else 0


def cmd_pose(args: argparse.Namespace) -> int:
    from appliance.poses.stream import pose_frames

    _check_frames(args.frames)
    settings = _quiet_settings(args)
    for frame in pose_frames(args.source, settings, args.model, args.frames):
        if args.json:
            from appliance.poses.recording import frame_line
            print(frame_line(frame.frame, frame.t, frame.poses), flush=True)
        else:
            scores = ", ".join(f"{p.score:.2f}" for p in frame.poses)
            print(f"frame {frame.frame} t={frame.t:.2f}s: {len(frame.poses)} people ({scores})", flush=True)
    return 0


def cmd_poses_record(args: argparse.Namespace) -> int:
    from appliance.poses.recording import PoseRecorder
    from appliance.poses.stream import pose_frames

    _check_frames(args.frames)
    if args.output.suffix.lower() != ".jsonl" or not args.output.parent.is_dir():
        raise ConfigError([f"-o: {args.output} is not a .jsonl path in an existing folder"])
    count = 0
    with PoseRecorder(args.output) as recorder:
        for frame in pose_frames(args.source, _quiet_settings(args), args.model, args.frames):
            recorder.write(frame.frame, frame.t, frame.poses)
            count += 1
    print(f"wrote {count} frames of poses to {args.output}")
    return 0


def cmd_poses_events(args: argparse.Namespace) -> int:
    from appliance.analysis.pose import load_examples
    from appliance.poses.rules import load_rules
    from appliance.poses.stream import pose_frames
    from appliance.poses.watch import PoseWatcher

    settings = _quiet_settings(args)
    p = settings.poses
    watcher = PoseWatcher(load_rules(p.rules), p.mirror, examples=load_examples(p, None))
    for frame in pose_frames(args.source, settings, args.model):
        for event in watcher.update(frame.frame, frame.t, frame.poses):
            if args.json:
                print(json.dumps(event.to_json()), flush=True)
            else:
                print(f"{event.t:8.2f} s  frame {event.frame:5d}  person {event.track:3d}  "
                      f"{event.pose:<16} {event.event}", flush=True)
    return 0


def cmd_poses_teach(args: argparse.Namespace) -> int:
    from appliance.poses.stream import pose_frames
    from appliance.poses.teach import teach_from_frames

    settings = _quiet_settings(args)
    path = paths.taught_poses(settings.poses.examples)
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = pose_frames(args.source, settings, args.model)
    added = teach_from_frames(args.name, frames, path, args.seconds, settings.poses.mirror)
    print(f"taught {args.name!r}: {added} examples saved to {path}")
    return 0


def _check_frames(frames: int) -> None:
    if frames < 0:
        raise ConfigError([f"--frames: {frames} is out of range (expected a value >= 0)"])


def _quiet_settings(args: argparse.Namespace) -> Settings:
    settings = load_config(args.config)
    setup_logging("warning")
    return settings


def cmd_test_pattern(args: argparse.Namespace) -> int:
    from appliance.app.pattern import test_pattern_command
    setup_logging("warning")
    return test_pattern_command(args.config, args.output, args.seconds)


def cmd_doctor(args: argparse.Namespace) -> int:
    from appliance.app.doctor import run_doctor

    setup_logging("error")
    findings = run_doctor(args.config, state_dir=args.state_dir)
    for finding in findings:
        print(finding.line())
    return 1 if any(f.status == "FAIL" for f in findings) else 0


def cmd_render(args: argparse.Namespace) -> int:
    from appliance.app.render import render
    from appliance.outputs import create_output

    _check_frames(args.frames)
    settings = load_config(args.config)
    settings = apply_overrides(settings, {"--mode": args.mode, "--output": f"file:{args.output}",
                                          "--source": args.source})
    setup_logging("warning")
    summary = render(settings, args.source, args.mode, create_output(f"file:{args.output}"),
                     args.frames, loop=bool(args.frames))
    if summary.error:
        raise SourceError(summary.error)
    print(f"rendered {summary.frames_out} frames of {args.mode} to {args.output}")
    return 0


def cmd_contact_sheet(args: argparse.Namespace) -> int:
    import cv2

    from appliance.app.render import contact_sheet
    from appliance.atomic import atomic_path

    _check_frames(args.frames)
    settings = load_config(args.config)
    setup_logging("warning")
    modes = args.modes.split(",") if args.modes else None
    unknown = [m for m in modes or [] if m not in settings.modes]
    if unknown:
        raise ConfigError([f"--modes: unknown mode {unknown[0]!r} (expected some of: "
                           f"{', '.join(settings.modes)})"])
    sheet = contact_sheet(settings, args.source, args.frames or 1, modes)
    ok, png = cv2.imencode(".png", sheet)
    with atomic_path(args.output) as tmp:
        tmp.write_bytes(png.tobytes())
    print(f"wrote {args.output} ({len(modes or settings.modes)} modes, {args.frames} frames each)")
    return 0
