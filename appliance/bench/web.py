"""The display loop with the technician's page open and previewing, against without it, in
turns in one run: the page must never slow the picture.

The display loop runs a mode that costs real work per frame (aged film, no model) on the
synthetic source, capture waiting for the display, so frames per second are the loop's own
throughput. "Open and previewing" is what a browser showing the page does: the page and the
doctor once, then the preview as often as `[web] preview_fps` allows (its maximum, 10 a second)
and the status every 2 s, from a client in another process, as a browser would be.
"""

from __future__ import annotations

import copy
import http.client
import multiprocessing
import secrets
import tempfile
import time
import types
import urllib.parse
from pathlib import Path
from typing import Any, Callable

from appliance.bench.turns import in_turns, loop_fps
from appliance.config import Settings
from appliance.config.sections import WebSettings
from appliance.web.passwords import store_password
from appliance.web.routes import COOKIE
from appliance.web.server import WebPage

PREVIEW_FPS = 10.0
BUDGET_RATIO = 0.95  # with the page / without: within the run-to-run noise of a shared machine


class Browser:
    """A page left open: logs in, loads the page and the doctor, then previews while
    `previewing` is set, until `stopped` (run in a process of its own)."""

    def __init__(self, port: int, password: str, events: tuple[Any, Any, Any], previews: Any):
        self.port, self.password = port, password
        self.cookie = ""
        self.ready, self.previewing, self.stopped = events
        self.previews = previews

    def get(self, method: str, path: str, body: str | None = None) -> bytes:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Cookie": f"{COOKIE}={self.cookie}"} if self.cookie else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        for value in response.headers.get_all("Set-Cookie") or []:
            if value.startswith(f"{COOKIE}="):
                self.cookie = value.split(";")[0].split("=", 1)[1]
        data = response.read()
        connection.close()
        return data

    def run(self) -> None:
        self.get("POST", "/login", urllib.parse.urlencode({"password": self.password}))
        self.get("GET", "/")
        self.get("GET", "/doctor.json")
        self.ready.set()
        last_status = 0.0
        while not self.stopped.is_set():
            if self.previewing.is_set():
                self.get("GET", "/preview.jpg")
                self.previews.value += 1
                if time.monotonic() - last_status >= 2.0:
                    self.get("GET", "/state.json")
                    last_status = time.monotonic()
            self.stopped.wait(1.0 / PREVIEW_FPS)


def web_page_bench(settings: Settings, frames: int = 2500, rounds: int = 5,
                   say: Callable[[str], None] = print) -> dict[str, Any]:
    """Display-loop fps without and with the page previewing, alternated `rounds` times."""
    settings = copy.deepcopy(settings)
    settings.source.spec, settings.source.width, settings.source.height = "synthetic", 640, 480
    settings.source.loop = True
    settings.run.frames = frames
    settings.run.mode = "aged-film" if "aged-film" in settings.modes else settings.run.mode
    with tempfile.TemporaryDirectory() as state:
        password = secrets.token_urlsafe(16)
        store_password(Path(state), password)
        holder = types.SimpleNamespace(pipeline=None, settings=settings, config=None, state_dir=Path(state),
                                       reload_requested=False)
        page = WebPage(holder, WebSettings(enabled=True, host="127.0.0.1", port=0, preview_fps=PREVIEW_FPS))
        if not page.start():
            return {"error": "the page could not start"}
        spawn = multiprocessing.get_context("spawn")
        ready, previewing, stopped = spawn.Event(), spawn.Event(), spawn.Event()
        previews = spawn.Value("i", 0)
        browser = spawn.Process(target=_browse, args=(page.port, password, (ready, previewing, stopped), previews),
                                name="bench-browser", daemon=True)
        browser.start()
        try:
            ready.wait(60)  # logged in, the page and the doctor loaded
            result = _alternate(settings, holder, previewing, rounds)
        finally:
            stopped.set()
            browser.join(10)
            page.close()
    result["previews"] = previews.value
    say(f"display loop with the technician's page open and previewing ({result['mode']}): "
        f"{result['with_page_fps']:.1f} fps vs {result['without_fps']:.1f} fps without = "
        f"{result['ratio']:.3f}x ({result['previews']} previews fetched)")
    return result


def _browse(port: int, password: str, events: tuple[Any, Any, Any], previews: Any) -> None:
    Browser(port, password, events, previews).run()


def _alternate(settings: Settings, holder: Any, previewing: Any, rounds: int) -> dict[str, Any]:
    def without() -> float:
        previewing.clear()
        return loop_fps(settings, holder)

    def with_page() -> float:
        previewing.set()
        return loop_fps(settings, holder)
    try:
        result = in_turns(without, with_page, rounds, ("without", "with_page"))
    finally:
        previewing.clear()
    return {"mode": settings.run.mode, "frames": settings.run.frames, **result, "preview_fps": PREVIEW_FPS}
