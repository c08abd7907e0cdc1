"""The technician's page's routes: login, the page, its preview and status, mode and config.

Every route but the login page, the login itself and the page's CSS and script needs a
session; every POST also needs the session's CSRF token (and, when the browser sends an
Origin, this page's own). Nothing from a request reaches a shell or a subprocess: a mode is
looked up among the configured modes, a config is only parsed, checked and written.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from pathlib import Path

from aiohttp import web

from appliance.atomic import atomic_write_text
from appliance.config.files import describe, save_target
from appliance.config.load import config_from_text
from appliance.errors import ConfigError
from appliance.web import views
from appliance.web.passwords import read_hash, verify_password
from appliance.web.sessions import LoginLimiter, Sessions, csrf_ok
from appliance.web.state import PageState

log = logging.getLogger(__name__)

COOKIE = "appliance_session"
PUBLIC = {("GET", "/login"), ("HEAD", "/login"), ("POST", "/login"), ("GET", "/page.css"),
          ("GET", "/page.js")}
MAX_PASSWORD = 1024
_key = getattr(web, "RequestKey", lambda name, kind: name)  # aiohttp >= 3.12 wants typed keys
SESSION, FORM = _key("session", object), _key("form", object)
HEADERS = {"Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
                                      "img-src 'self'; connect-src 'self'; form-action 'self'; "
                                      "frame-ancestors 'none'; base-uri 'none'",
           "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
           # same-origin, not no-referrer: under no-referrer Chromium sends `Origin: null` with a form
           "Referrer-Policy": "same-origin", "Cache-Control": "no-store"}


class Page:
    """The handlers, with what they share: the service's state, sessions and the limiter."""

    def __init__(self, state: PageState, state_dir: Path, every_ms: int):
        self.state = state
        self.state_dir = Path(state_dir)
        self.every_ms = every_ms
        self.sessions = Sessions()
        self.limiter = LoginLimiter()

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self.guard], client_max_size=4 << 20)
        app.on_response_prepare.append(_add_headers)
        app.router.add_get("/login", self.login_form)
        app.router.add_post("/login", self.login)
        app.router.add_post("/logout", self.logout)
        app.router.add_get("/", self.page)
        app.router.add_get("/preview.jpg", self.preview)
        app.router.add_get("/state.json", self.status)
        app.router.add_get("/doctor.json", self.doctor)
        app.router.add_post("/mode", self.mode)
        app.router.add_post("/config", self.config)
        app.router.add_get("/page.css", _css)
        app.router.add_get("/page.js", _script)
        return app

    @web.middleware
    async def guard(self, request: web.Request, handler) -> web.StreamResponse:
        """Nothing but the login page answers without a session; no POST without its token."""
        if (request.method, request.path) in PUBLIC:
            return await handler(request)
        session = self.sessions.get(request.cookies.get(COOKIE))
        if session is None:
            if request.method in ("GET", "HEAD"):
                raise web.HTTPSeeOther("/login")
            raise web.HTTPForbidden(text="log in first")
        request[SESSION] = session
        if request.method == "POST":
            form = await request.post()
            if not csrf_ok(session, form.get("csrf")) or not _same_origin(request):
                raise web.HTTPForbidden(text="missing or wrong CSRF token")
            request[FORM] = form
        return await handler(request)

    async def login_form(self, request: web.Request) -> web.Response:
        return _html(views.login_page())

    async def login(self, request: web.Request) -> web.Response:
        client = request.remote or "?"
        wait = self.limiter.retry_after(client)
        if wait:
            return _html(views.login_page(f"Too many wrong passwords: try again in {wait} s."),
                         status=429, headers={"Retry-After": str(wait)})
        self.limiter.failed(client)  # counted before the slow check: parallel tries count too
        form = await request.post()
        password = str(form.get("password", ""))[:MAX_PASSWORD]
        stored = read_hash(self.state_dir)
        loop = asyncio.get_running_loop()
        if stored is None or not await loop.run_in_executor(None, verify_password, password, stored):
            log.warning("technician's page: wrong password from %s", client)
            return _html(views.login_page("Wrong password."), status=401)
        self.limiter.succeeded(client)
        session = self.sessions.create()
        response = web.HTTPSeeOther("/")
        response.set_cookie(COOKIE, session.token, httponly=True, samesite="Strict", path="/")
        log.info("technician's page: logged in from %s", client)
        raise response

    async def logout(self, request: web.Request) -> web.Response:
        self.sessions.end(request[SESSION].token)
        response = web.HTTPSeeOther("/login")
        response.del_cookie(COOKIE, path="/")
        raise response

    async def page(self, request: web.Request, problems: list[str] | None = None,
                   text: str | None = None) -> web.Response:
        config_text, where = self.state.config_text()
        saved = (f"Saved to {where}; the artwork reloads it between two frames."
                 if request.query.get("saved") else "")
        poses = await asyncio.get_running_loop().run_in_executor(None, self.state.taught_poses)
        body = views.main_page(request[SESSION].csrf, self.state.status(), self.every_ms, poses,
                               config_text if text is None else text, where, problems, saved)
        return _html(body, status=400 if problems else 200)

    async def preview(self, request: web.Request) -> web.Response:
        jpeg = await asyncio.get_running_loop().run_in_executor(None, self.state.picture)
        if jpeg is None:
            return web.Response(status=503, text="no picture: the artwork is asleep or starting")
        return web.Response(body=jpeg, content_type="image/jpeg")

    async def status(self, request: web.Request) -> web.Response:
        return web.json_response(self.state.status())

    async def doctor(self, request: web.Request) -> web.Response:
        try:
            lines = await asyncio.get_running_loop().run_in_executor(None, self.state.doctor)
        except Exception as exc:  # a probe that breaks must not break the page
            log.exception("technician's page: doctor failed")
            lines = [f"FAIL doctor       could not run ({type(exc).__name__}: {exc})"]
        return web.json_response({"lines": lines})

    async def mode(self, request: web.Request) -> web.Response:
        name = str(request[FORM].get("mode", ""))
        problem = self.state.switch_mode(name)
        if problem:
            raise web.HTTPBadRequest(text=problem)
        log.info("technician's page: mode %s asked for", name)
        raise web.HTTPSeeOther("/")

    async def config(self, request: web.Request) -> web.Response:
        text = str(request[FORM].get("text", "")).replace("\r\n", "\n")
        service = self.state.service
        target = save_target(service.config, self.state_dir)
        problems = await asyncio.get_running_loop().run_in_executor(None, save_config, text, target,
                                                                    service.config)
        if problems:
            return await self.page(request, problems, text)
        log.info("technician's page: config saved to %s; reloading", describe(target, service.config))
        service.reload_requested = True  # done by the display loop between two frames
        raise web.HTTPSeeOther("/?saved=1")


def save_config(text: str, target: Path, config: Path | None) -> list[str]:
    """Check `text` exactly as `appliance config check` checks a file and, with no problem,
    write it atomically to `target` (made newer than `config` when it is the edited copy, so
    it is the one in force). The problems, or [] once written."""
    try:
        config_from_text(text, str(target))
    except ConfigError as exc:
        return exc.problems
    try:
        atomic_write_text(target, text)
        if config is not None and target != config and config.exists():
            newer = max(time.time(), config.stat().st_mtime + 1.0)
            os.utime(target, (newer, newer))
    except OSError as exc:
        return [f"{target}: cannot be written ({exc.strerror or exc}); nothing changed"]
    return []


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    return origin is None or origin == f"{request.scheme}://{request.host}"


async def _css(request: web.Request) -> web.Response:
    return web.Response(text=views.CSS, content_type="text/css")


async def _script(request: web.Request) -> web.Response:
    return web.Response(text=views.JS, content_type="text/javascript")


def _html(body: str, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(text=body, status=status, content_type="text/html", headers=headers)


async def _add_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
