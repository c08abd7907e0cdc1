"""The technician's page in a real headless Chromium, in front of a real `appliance service`:
log in, see the preview change, switch a mode, save a broken config and see the error, save a
good one and see it in force; and without the password nothing but the login page answers.

Needs Debian's `chromium` and `chromium-driver` (skipped, saying so, where they are absent)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

from appliance.web.passwords import store_password

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (test extra)")
from selenium.common.exceptions import StaleElementReferenceException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                                reason="needs Debian's chromium and chromium-driver")
PASSWORD = "correct horse battery"
CONFIG = """[source]
spec = "synthetic"
width = 160
height = 120
fps = 20
[output]
spec = "null"
[run]
mode = "passthrough"
[logging]
stats_every_s = 0
[web]
enabled = true
host = "127.0.0.1"
port = {port}
preview_fps = 5
"""
NEW_MODE = '\n[modes.upside-down]\ndescription = "The room on its head."\neffects = [{ effect = "mirror", axis = "vertical" }]\n'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def service(tmp_path):
    port = free_port()
    config = tmp_path / "appliance.toml"
    config.write_text(CONFIG.format(port=port))
    state = tmp_path / "state"
    store_password(state, PASSWORD)
    log = tmp_path / "service.log"
    env = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "JOURNAL_STREAM")}
    proc = subprocess.Popen([sys.executable, "-m", "appliance", "service", "--config", str(config),
                             "--state-dir", str(state)], stdout=subprocess.DEVNULL,
                            stderr=open(log, "w"), env=env)
    wait_until(lambda: "serving on" in log.read_text() or proc.poll() is not None, 30)
    assert proc.poll() is None, log.read_text()
    yield {"url": f"http://127.0.0.1:{port}", "port": port, "config": config, "state": state, "log": log}
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 0
    with socket.socket() as sock:  # the page stops serving with the service
        assert sock.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture
def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def wait_until(predicate, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    pytest.fail("timed out")


def preview_pixels(driver) -> str:
    """The preview <img> as the browser decoded it, drawn on a canvas."""
    return driver.execute_script("""
        var img = document.getElementById('preview');
        if (!img.complete || !img.naturalWidth) return '';
        var c = document.createElement('canvas');
        c.width = img.naturalWidth; c.height = img.naturalHeight;
        c.getContext('2d').drawImage(img, 0, 0);
        return c.toDataURL('image/png');""")


def text_of(driver, element_id: str) -> str:
    """The element's text, or "" while it is absent or its page is being replaced."""
    try:
        found = driver.find_elements(By.ID, element_id)
        return found[0].text if found else ""
    except StaleElementReferenceException:
        return ""


def test_without_the_password_only_the_login_page_answers(service, browser):
    for path in ("/", "/preview.jpg", "/state.json", "/doctor.json", "/config"):
        browser.get(service["url"] + path)
        assert browser.current_url == service["url"] + "/login", path
        assert browser.find_element(By.ID, "password")
    browser.find_element(By.ID, "password").send_keys("not the password")
    browser.find_element(By.ID, "login").click()
    # the answer comes after the password's hash is checked (scrypt, on purpose slow): wait for it
    message = WebDriverWait(browser, 20).until(lambda d: text_of(d, "message"))
    assert "Wrong password" in message
    assert browser.current_url == service["url"] + "/login"


def test_log_in_watch_switch_a_mode_and_edit_the_config(service, browser):
    browser.get(service["url"] + "/")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.ID, "login").click()
    wait = WebDriverWait(browser, 20)
    wait.until(lambda d: d.current_url == service["url"] + "/")

    first = wait_until(lambda: preview_pixels(browser))
    wait_until(lambda: preview_pixels(browser) not in ("", first))  # the live picture moves

    browser.find_element(By.CSS_SELECTOR, "button[value='mirror']").click()
    wait.until(lambda d: text_of(d, "mode") == "mirror")
    wait_until(lambda: json.loads((service["state"] / "status.json").read_text())["mode"] == "mirror", 15)
    assert "mode: mirror" in service["log"].read_text()

    before = service["config"].read_text()
    save(browser, before.replace("fps = 20", "fsp = 20"))
    problems = wait.until(lambda d: text_of(d, "problems"))
    assert f"{service['config']}: source.fsp: unknown key" in problems
    assert service["config"].read_text() == before

    good = before.replace('mode = "passthrough"', 'mode = "upside-down"') + NEW_MODE
    save(browser, good)
    wait.until(lambda d: text_of(d, "saved"))
    assert service["config"].read_text() == good
    wait.until(lambda d: text_of(d, "mode") == "upside-down")  # reloaded: the new mode is shown
    browser.refresh()
    assert browser.find_element(By.CSS_SELECTOR, "button[value='upside-down']").get_attribute("class") == "current"


def save(driver, text: str) -> None:
    area = driver.find_element(By.ID, "config")
    driver.execute_script("arguments[0].value = arguments[1];", area, text)
    driver.find_element(By.ID, "save").click()
