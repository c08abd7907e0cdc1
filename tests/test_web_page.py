"""The technician's page over real sockets on 127.0.0.1, in front of a fake service: nothing
but the login page without a session, CSRF on every change, the login rate limit, modes,
the config editor, the preview, and a page that cannot start saying so in one line."""

from __future__ import annotations

import http.client
import logging
import re
import socket
import types
import urllib.parse

import cv2
import numpy as np
import pytest

from appliance.config.sections import WebSettings
from appliance.web.passwords import store_password
from appliance.web.routes import COOKIE
from appliance.web.server import WebPage, follow_page

PASSWORD = "correct horse"
GOOD = '[run]\nmode = "mirror"\n'


class FakePipeline:
    def __init__(self):
        self.modes = {"passthrough": None, "mirror": None}
        self.mode_name = "passthrough"
        self.actions: list[str] = []
        self.last_shown = np.full((120, 160, 3), 90, np.uint8)

    def apply_action(self, action: str) -> None:
        self.actions.append(action)

    def _summary(self):
        return types.SimpleNamespace(lines=lambda: ["run", "frames in 5, out 5, 20.0 fps"])


class Client:
    """HTTP requests without following redirects, keeping the session cookie."""

    def __init__(self, port: int):
        self.port = port
        self.cookie = ""

    def request(self, method: str, path: str, form: dict | None = None, headers: dict | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = dict(headers or {})
        if self.cookie:
            headers["Cookie"] = f"{COOKIE}={self.cookie}"
        body = urllib.parse.urlencode(form) if form is not None else None
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
        connection.close()
        for value in response.headers.get_all("Set-Cookie") or []:
            if value.startswith(f"{COOKIE}="):
                self.cookie = value.split(";")[0].split("=", 1)[1]
        return response, data

    def login(self, password: str = PASSWORD):
        return self.request("POST", "/login", {"password": password})

    def csrf(self) -> str:
        _, body = self.request("GET", "/")
        return re.search(rb'name="csrf" value="([^"]+)"', body).group(1).decode()


@pytest.fixture
def service(tmp_path):
    state = tmp_path / "state"
    store_password(state, PASSWORD)
    config = tmp_path / "appliance.toml"
    config.write_text('[run]\nmode = "passthrough"\n')
    return types.SimpleNamespace(pipeline=FakePipeline(), settings=None, config=config, state_dir=state,
                                 reload_requested=False)


@pytest.fixture
def page(service):
    page = WebPage(service, WebSettings(enabled=True, host="127.0.0.1", port=0))
    assert page.start()
    yield page
    page.close()


@pytest.mark.parametrize("method, path", [("GET", "/"), ("GET", "/preview.jpg"), ("GET", "/state.json"),
                                          ("GET", "/doctor.json"), ("GET", "/anything"),
                                          ("POST", "/mode"), ("POST", "/config"), ("POST", "/logout")])
def test_without_a_session_only_the_login_page_answers(page, service, method, path):
    client = Client(page.port)
    response, body = client.request(method, path, {"mode": "mirror", "text": GOOD} if method == "POST" else None)
    if method == "GET":
        assert (response.status, response.headers["Location"]) == (303, "/login")
    else:
        assert response.status == 403
    assert b"mirror" not in body and service.pipeline.actions == []
    response, body = client.request("GET", "/login")
    assert response.status == 200 and b'type="password"' in body


def test_a_login_sets_a_strict_http_only_cookie(page):
    client = Client(page.port)
    response, _ = client.login("wrong password")
    assert response.status == 401 and not client.cookie
    response, _ = client.login()
    assert (response.status, response.headers["Location"]) == (303, "/")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    response, body = client.request("GET", "/")
    assert response.status == 200 and b"passthrough" in body
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_wrong_passwords_are_rate_limited_with_retry_after(page):
    client = Client(page.port)
    for _ in range(5):
        assert client.login("wrong password")[0].status == 401
    response, _ = client.login()  # even the right one, until the minute is over
    assert response.status == 429
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert not client.cookie


def test_every_change_needs_the_sessions_csrf_token(page, service):
    client = Client(page.port)
    client.login()
    token = client.csrf()
    other = Client(page.port)
    other.login()
    for form, headers in (({"mode": "mirror"}, {}), ({"mode": "mirror", "csrf": "forged"}, {}),
                          ({"mode": "mirror", "csrf": other.csrf()}, {}),
                          ({"mode": "mirror", "csrf": token}, {"Origin": "http://evil.example"})):
        assert client.request("POST", "/mode", form, headers)[0].status == 403
    assert service.pipeline.actions == []
    response, _ = client.request("POST", "/mode", {"mode": "mirror", "csrf": token})
    assert response.status == 303
    assert service.pipeline.actions == ["mode:mirror"]
    assert client.request("POST", "/mode", {"mode": "rm -rf /", "csrf": token})[0].status == 400
    assert service.pipeline.actions == ["mode:mirror"]


def test_a_broken_config_is_shown_and_not_written_a_good_one_is_written_and_reloaded(page, service):
    client = Client(page.port)
    client.login()
    token = client.csrf()
    before = service.config.read_text()
    response, body = client.request("POST", "/config", {"csrf": token, "text": "[source]\r\nfsp = 3\r\n"})
    assert response.status == 400
    assert f"{service.config}: source.fsp: unknown key".encode() in body
    assert service.config.read_text() == before and not service.reload_requested
    response, _ = client.request("POST", "/config", {"csrf": token, "text": GOOD.replace("\n", "\r\n")})
    assert (response.status, response.headers["Location"]) == (303, "/?saved=1")
    assert service.config.read_text() == GOOD
    assert service.reload_requested


def test_the_preview_is_a_small_jpeg_of_the_last_picture_shown(page, service):
    client = Client(page.port)
    client.login()
    service.pipeline.last_shown = np.full((960, 1280, 3), (0, 0, 255), np.uint8)
    response, body = client.request("GET", "/preview.jpg")
    assert response.status == 200 and response.headers["Content-Type"] == "image/jpeg"
    picture = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_COLOR)
    assert picture.shape == (360, 480, 3)  # [web] preview_width
    assert picture[..., 2].mean() > 200 and picture[..., 0].mean() < 50


def test_asleep_the_page_says_so(page, service):
    service.pipeline = None
    client = Client(page.port)
    client.login()
    response, body = client.request("GET", "/")
    assert response.status == 200 and b"asleep" in body
    assert client.request("GET", "/preview.jpg")[0].status == 503
    assert client.request("POST", "/mode", {"mode": "mirror", "csrf": client.csrf()})[0].status == 400


def test_the_page_stops_serving_when_closed(service):
    page = WebPage(service, WebSettings(enabled=True, host="127.0.0.1", port=0))
    assert page.start()
    port = page.port
    page.close()
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0


def test_no_password_or_a_port_in_use_is_one_error_line(service, tmp_path, caplog):
    caplog.set_level(logging.ERROR)
    nobody = types.SimpleNamespace(**{**vars(service), "state_dir": tmp_path / "empty"})
    assert not WebPage(nobody, WebSettings(enabled=True, host="127.0.0.1", port=0)).start()
    assert [r.getMessage() for r in caplog.records][-1].startswith(
        "technician's page: no password set")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        caplog.clear()
        assert not WebPage(service, WebSettings(enabled=True, host="127.0.0.1",
                                                port=taken.getsockname()[1])).start()
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith("technician's page: cannot serve on 127.0.0.1:") and "without the page" in line


def test_the_page_follows_the_config_and_is_off_by_default(service):
    assert follow_page(None, service, WebSettings()) is None  # off: nothing listens
    on = WebSettings(enabled=True, host="127.0.0.1", port=0)
    page = follow_page(None, service, on)
    assert follow_page(page, service, WebSettings(enabled=True, host="127.0.0.1", port=0)) is page
    assert follow_page(page, service, WebSettings()) is None
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", page.port)) != 0


def test_an_edit_the_service_cannot_write_in_place_goes_to_the_state_folder_and_is_in_force(tmp_path):
    from appliance.config.files import config_in_force, edited_copy, save_target
    from appliance.web.routes import save_config

    state = tmp_path / "state"
    state.mkdir()
    card = tmp_path / "boot" / "appliance.toml"
    card.parent.mkdir()
    card.write_text('[run]\nmode = "passthrough"\n')
    assert save_target(card, state) == card  # writable: edited in place
    assert config_in_force(card, state) == card
    assert save_target(None, state) == edited_copy(state)
    assert save_config(GOOD, edited_copy(state), card) == []  # as when the card is read-only
    assert config_in_force(card, state) == edited_copy(state)
    assert card.read_text() == '[run]\nmode = "passthrough"\n'
    card.write_text('[run]\nmode = "mirror"\n')  # edited from a laptop later: newer, in force
    import os
    later = edited_copy(state).stat().st_mtime + 5
    os.utime(card, (later, later))
    assert config_in_force(card, state) == card
