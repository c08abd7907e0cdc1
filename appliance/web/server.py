"""The technician's page's server: aiohttp on its own thread, with its own asyncio loop, at a
lower priority than the display loop.

The service starts it once and closes it when it stops (then nothing answers on the port). A
port that cannot be bound, or no password set, is one error line: the artwork runs on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
from pathlib import Path
from typing import Any

from appliance.config.sections import WebSettings
from appliance.web.passwords import password_file, read_hash
from appliance.web.state import PageState

log = logging.getLogger(__name__)

START_S = 10.0
STOP_S = 1.5  # the service must exit within 2 s of SIGTERM


class WebPage:
    def __init__(self, service: Any, web_settings: WebSettings):
        self.service = service
        self.settings = dataclasses.replace(web_settings)
        self.state = PageState(service, web_settings.preview_fps, web_settings.preview_width)
        self.port = 0  # the bound port, once started
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: Any = None

    def start(self) -> bool:
        """Serve the page; False (after one error line) when it cannot be."""
        host, port = self.settings.host, self.settings.port
        if read_hash(self.service.state_dir) is None:
            log.error("technician's page: no password set (%s); run `appliance password` to set "
                      "one; running without the page", password_file(self.service.state_dir))
            return False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="web", daemon=True)
        self._thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self._open(), self._loop).result(START_S)
        except Exception as exc:  # a port in use, an address not on this box, a timeout
            log.error("technician's page: cannot serve on %s:%d (%s); running without the page",
                      host, port, exc)
            self.close()
            return False
        log.info("technician's page: serving on http://%s:%d/", host, self.port)
        return True

    def _run(self) -> None:
        from appliance.core.workers import lower_this_threads_priority
        lower_this_threads_priority()  # the executor's threads, started from here, inherit it
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    async def _open(self) -> None:
        from aiohttp import web

        from appliance.web.routes import Page
        every_ms = max(100, round(1000.0 / self.settings.preview_fps))
        app = Page(self.state, Path(self.service.state_dir), every_ms).app()
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.host, self.settings.port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    def close(self) -> None:
        """Stop serving (quickly: open connections are cut after half a second)."""
        loop, self._loop = self._loop, None
        if loop is None:
            return
        if self._runner is not None:
            try:
                asyncio.run_coroutine_threadsafe(self._runner.cleanup(), loop).result(STOP_S)
            except Exception as exc:
                log.error("technician's page: did not stop cleanly (%s)", exc)
            self._runner = None
        loop.call_soon_threadsafe(loop.stop)
        self._thread.join(STOP_S)
        if not self._thread.is_alive():
            loop.close()


def follow_page(page: WebPage | None, service: Any, web_settings: WebSettings) -> WebPage | None:
    """The page as `web_settings` want it: the running one when they did not change, else the
    old one closed and (when enabled) a new one started. None: no page."""
    if page is not None and page.settings == web_settings:
        return page
    if page is not None:
        page.close()
        log.info("technician's page: [web] changed; %s", "restarting" if web_settings.enabled else "stopped")
    if not web_settings.enabled:
        return None
    page = WebPage(service, web_settings)
    return page if page.start() else None
