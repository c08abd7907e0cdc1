"""The display loop with the box in a show, against alone, in turns in one run: the network
must never slow the picture.

The display loop runs aged film on the synthetic source, capture waiting for the display, so
frames per second are the loop's own throughput. The film stays on the frames' own time in both
(on the show's clock, the film's work would depend on where the wall clock is in its cycle: a
clean picture costs nothing); what the show's clock costs a frame is one wall-clock reading.
"In a show" is a private mosquitto on the loopback address and another box in another process
saying what a busy show says: pose events and mode changes, 50 messages a second, which this
box receives, checks and ignores, while it says its own. The other box talks in both turns (on
a real show it and the broker are other machines: here they share the CPU), so the ratio is what
being in the show costs this box.
"""

from __future__ import annotations

import copy
import multiprocessing
import time
from typing import Any, Callable

from appliance.bench.turns import in_turns, loop_fps
from appliance.config import Settings
from appliance.config.sections import ShowSettings

PEER_RATE = 50.0  # messages a second from the other box
BUDGET_RATIO = 0.95  # in a show / alone: within the run-to-run noise of a shared machine


def _peer(port: int, talking: Any, stopped: Any, sent: Any) -> None:
    """Another box of the show, in its own process: pose events and mode changes."""
    import paho.mqtt.client as mqtt
    from appliance.show.messages import encode, topic
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-peer")
    client.connect("127.0.0.1", port)
    client.loop_start()
    i = 0
    while not stopped.is_set():
        if talking.is_set():
            i += 1
            if i % 10:
                payload = encode("peer", time.time(), track=i % 6, pose="arms_up", event="start" if i % 2 else "end")
                client.publish(topic("bench", "pose"), payload)
            else:
                client.publish(topic("bench", "mode"), encode("peer", time.time(), mode="kandinsky"))
            sent.value += 1
        stopped.wait(1.0 / PEER_RATE)
    client.disconnect()
    client.loop_stop()


def show_bench(settings: Settings, frames: int = 2500, rounds: int = 5,
               say: Callable[[str], None] = print) -> dict[str, Any]:
    """Display-loop fps alone and in a show, alternated `rounds` times."""
    from appliance.show.broker import Broker, mosquitto_path
    if mosquitto_path() is None:
        say("display loop in a show: not measured (mosquitto is not installed)")
        return {"skipped": "mosquitto is not installed"}
    alone = copy.deepcopy(settings)
    alone.source.spec, alone.source.width, alone.source.height, alone.source.loop = "synthetic", 640, 480, True
    alone.run.frames = frames
    alone.run.mode = "aged-film" if "aged-film" in alone.modes else alone.run.mode
    alone.show = ShowSettings(enabled=False)
    broker = Broker().start()
    together = copy.deepcopy(alone)
    together.show = ShowSettings(enabled=True, broker="127.0.0.1", port=broker.port, name="bench", box="box",
                                 shared_clock=False)  # the film's work then follows the same frame times
    spawn = multiprocessing.get_context("spawn")
    talking, stopped, sent = spawn.Event(), spawn.Event(), spawn.Value("i", 0)
    peer = spawn.Process(target=_peer, args=(broker.port, talking, stopped, sent), name="bench-peer", daemon=True)
    peer.start()
    try:
        result = _alternate(alone, together, talking, rounds)
    finally:
        stopped.set()
        peer.join(10)
        broker.close()
    result["peer_messages"] = sent.value
    say(f"display loop in a show ({result['mode']}, another box saying {PEER_RATE:g} messages/s): "
        f"{result['in_show_fps']:.1f} fps vs {result['alone_fps']:.1f} fps alone = {result['ratio']:.3f}x")
    return result


def _alternate(alone: Settings, together: Settings, talking: Any, rounds: int) -> dict[str, Any]:
    talking.set()  # in both: on a real show the other box and the broker are other machines
    try:
        result = in_turns(lambda: loop_fps(alone), lambda: loop_fps(together), rounds, ("alone", "in_show"))
    finally:
        talking.clear()
    return {"mode": alone.run.mode, "frames": alone.run.frames, **result, "peer_rate": PEER_RATE}


def show_budgets(report: dict[str, Any], check: Callable[..., dict[str, Any]]) -> list[dict[str, Any]]:
    """The budget line (absent from older runs; `check` is the report's row maker)."""
    s = report.get("show")
    if not s:
        return []
    if "skipped" in s:
        return [check("display loop in a show", f"not measured ({s['skipped']})", "reported", None)]
    return [check(f"display loop fps in a show ({s['mode']}, another box saying {s['peer_rate']:g} messages/s) "
                  "/ alone, same run", f"{s['ratio']:.3f}x ({s['in_show_fps']:.0f} vs {s['alone_fps']:.0f} fps)",
                  f">= {BUDGET_RATIO}x", s["ratio"] >= BUDGET_RATIO)]
