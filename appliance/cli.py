"""The `appliance` command. Every ApplianceError becomes one clear line and an exit code."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from appliance import __version__
from appliance.config import Settings, apply_overrides, dump_toml, load_config
from appliance.errors import ApplianceError, ConfigError

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

    run = sub.add_parser("run", help="run the artwork: source -> mode -> output")
    _add_pipeline_args(run)
    run.add_argument("--output", help="auto, window, hdmi, null, file:PATH.mp4 or file:PATH.png")
    run.add_argument("--frames", type=int, help="stop after N output frames (0: never)")
    run.add_argument("--loop", action="store_true", default=None, help="start a file again at its end")
    run.set_defaults(handler=cmd_run)

    bench = sub.add_parser("bench", help="measure the pipeline with null output")
    _add_pipeline_args(bench)
    bench.add_argument("--frames", type=int, default=300, help="frames to measure (default 300)")
    bench.add_argument("--realtime", action="store_true",
                       help="pace files like a camera and count dropped frames "
                            "(default: as fast as the display loop takes them)")
    bench.add_argument("--json", type=Path, help="also write the results to this JSON file")
    bench.set_defaults(handler=cmd_bench)

    config = sub.add_parser("config", help="check or show the config")
    config_sub = config.add_subparsers(title="config commands")
    check = config_sub.add_parser("check", help="validate a config file, listing every problem")
    check.add_argument("file", type=Path)
    check.set_defaults(handler=cmd_config_check)
    show = config_sub.add_parser("show", help="print the effective config as TOML")
    show.add_argument("--config", type=Path, help="config file (default: built-in defaults)")
    show.set_defaults(handler=cmd_config_show)
    return parser


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


def setup_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")


def cmd_run(args: argparse.Namespace) -> int:
    from appliance.runner import build_pipeline, run_pipeline

    settings = load_settings(args)
    summary = run_pipeline(build_pipeline(settings))
    for line in summary.lines():
        print(line)
    if summary.error:
        print(f"appliance: {summary.error}", file=sys.stderr)
        return 3
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from appliance.bench import run_bench

    if args.frames < 1:
        raise ConfigError([f"--frames: {args.frames} is out of range (expected a value >= 1)"])
    settings = load_settings(args)
    report = run_bench(settings, realtime=args.realtime)
    for line in report["summary_lines"]:
        print(line)
    if args.json:
        from appliance.atomic import atomic_write_text
        atomic_write_text(args.json, json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


def cmd_config_check(args: argparse.Namespace) -> int:
    load_config(args.file)
    print(f"{args.file}: ok")
    return 0


def cmd_config_show(args: argparse.Namespace) -> int:
    print(dump_toml(load_config(args.config)), end="")
    return 0
