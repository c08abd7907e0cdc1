"""One box's connection to the show's MQTT broker, which must never hold up the artwork.

paho-mqtt (Eclipse's client) does the protocol on its own network thread: `connect_async`
only records the broker, so an unreachable or unresolvable broker never delays start-up; a
lost or refused connection is retried with backoff (1 s, doubling, at most 30 s) and rejoined
by itself; the broker is told to announce the box offline if it vanishes (a retained last
will). Meanwhile the box plays alone. Each outage is one log line, and so is the return.

What the box says goes through an outbox: `publish` only appends to a bounded queue and wakes
the sender thread, so the display loop and the pose stage never wait on a socket, and what is
said while the broker is away is dropped (a show-wide switch minutes late would be wrong).
What other boxes say arrives on paho's thread, is checked (`messages.decode`), and what is
not the show's (bad payloads, unknown boxes, actions this box cannot do) is dropped with one
log line each, at most 10 lines a minute (a flood is counted, not logged); this box's own
messages, back from the broker, are ignored.

The box only connects out (TCP, or TLS with `tls`); nothing listens on a port here.
"""

from __future__ import annotations

import collections
import logging
import secrets
import socket
import threading
import time
from pathlib import Path
from typing import Any, Callable

from appliance.config.sections import ShowSettings
from appliance.errors import ApplianceError
from appliance.show.clock import SKEW_S
from appliance.show.messages import NAME, BadMessage, Message, decode, encode, name_problem, topic

log = logging.getLogger(__name__)

RETRY_S = (1.0, 30.0)  # first and longest pause before the broker is tried again
KEEPALIVE_S = 10  # a broker gone without a word (a cable out) is noticed within 1.5x this
OUTBOX = 256  # messages waiting for the sender; older ones go first when it is full
CLOSE_WAIT_S = 0.5  # how long closing waits for the goodbye (never long: SIGTERM must end in 2 s)
DROPS_LOGGED = (10, 60.0)  # at most this many dropped messages logged per this many seconds


class ShowError(ApplianceError):
    """The show cannot be joined as configured (a password file that cannot be read, a CA file
    TLS cannot use): the box plays alone."""


def box_name(settings: ShowSettings) -> str:
    """The configured box name, else the host name made fit for a topic."""
    if settings.box:
        return settings.box
    name = "".join(c if NAME.fullmatch(c) else "-" for c in socket.gethostname())[:64]
    return name if not name_problem(name) else "box"


class ShowLink:
    """Connects when `start` is called; `on_message(message)` is called on paho's thread for
    every checked message from another box of the show."""

    def __init__(self, settings: ShowSettings, on_message: Callable[[Message], None],
                 wall: Callable[[], float] = time.time):
        self.settings = settings
        self.show = settings.name
        self.box = box_name(settings)
        self.on_message = on_message
        self.wall = wall
        self.connected = False
        self.dropped = 0  # messages not sent: the broker away, or the outbox full
        self.received = 0
        self.rejected = 0  # messages from the network dropped as not the show's
        self.on_join: Callable[[], None] = lambda: None  # told on every (re)connection
        self._outbox: collections.deque = collections.deque(maxlen=OUTBOX)
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._down_since: float | None = None  # monotonic time the outage began, once logged
        self._skewed: set[str] = set()  # boxes whose clock was said to be off
        self._drops_window = (0.0, 0)  # when the current minute began, lines logged in it
        self._drops_unlogged = 0
        self._client: Any = None
        self._sender = threading.Thread(target=self._send_loop, name="show-send", daemon=True)

    # -- out ----------------------------------------------------------------------------------
    def publish(self, kind: str, retain: bool = False, **fields: Any) -> None:
        """Say something to the show, from any thread, without waiting."""
        if len(self._outbox) == OUTBOX:
            self.dropped += 1
        self._outbox.append((topic(self.show, kind, self.box), encode(self.box, self.wall(), **fields),
                             1 if retain else 0, retain))
        self._wake.set()

    def _send_loop(self) -> None:
        while not self._closing.is_set():
            self._wake.wait(1.0)
            self._wake.clear()
            while self._outbox:
                message = self._outbox.popleft()
                if self.connected:
                    self._client.publish(*message)
                else:
                    self.dropped += 1

    # -- the connection -----------------------------------------------------------------------
    def start(self) -> None:
        """Start joining the show in the background. ShowError when the settings cannot be
        used (the caller plays alone); the network itself is never a reason to raise."""
        self._client = self._make_client()
        log.info("show %s: joining at %s:%d as %s", self.show, self.settings.broker, self.settings.port, self.box)
        self._client.connect_async(self.settings.broker, self.settings.port, keepalive=KEEPALIVE_S)
        self._client.loop_start()
        self._sender.start()

    def _make_client(self) -> Any:
        import paho.mqtt.client as mqtt  # only when a show is configured
        s = self.settings
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311,
                             client_id=f"appliance-{self.show}-{self.box}-{secrets.token_hex(3)}"[:64])
        client.reconnect_delay_set(int(RETRY_S[0]), int(RETRY_S[1]))
        if s.username:
            client.username_pw_set(s.username, self._password())
        if s.tls:
            try:
                client.tls_set(ca_certs=s.ca_file or None)
            except (OSError, ValueError) as exc:
                raise ShowError(f"TLS with CA file {s.ca_file or '(the system' + chr(39) + 's)'}: {exc}") from None
        client.will_set(topic(self.show, "presence", self.box), encode(self.box, 0.0, online=False), 1, True)
        client.on_connect, client.on_disconnect = self._connected, self._disconnected
        client.on_connect_fail, client.on_message = self._connect_failed, self._message
        return client

    def _password(self) -> str | None:
        if not self.settings.password_file:
            return None
        try:
            return Path(self.settings.password_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ShowError(f"cannot read the password file {self.settings.password_file} ({exc})") from None

    def _connected(self, client: Any, _userdata: Any, _flags: Any, reason: Any, _properties: Any) -> None:
        if reason.is_failure:
            self._down(f"the broker refused this box ({reason})")
            return
        self.connected = True
        client.subscribe(f"show/{self.show}/#", qos=1)
        if self._down_since is not None:
            log.info("show %s: rejoined at %s:%d after %.0f s alone", self.show, self.settings.broker,
                     self.settings.port, time.monotonic() - self._down_since)
        else:
            log.info("show %s: joined at %s:%d", self.show, self.settings.broker, self.settings.port)
        self._down_since = None
        self.publish("presence", retain=True, online=True)
        self.on_join()

    def _disconnected(self, _client: Any, _userdata: Any, _flags: Any, reason: Any, _properties: Any) -> None:
        self.connected = False
        if not self._closing.is_set():
            self._down("lost the broker" + ("" if str(reason) == "Unspecified error" else f" ({reason})"))

    def _connect_failed(self, _client: Any, _userdata: Any) -> None:
        self._down("cannot reach the broker")

    def _down(self, why: str) -> None:
        """One line per outage, whatever the number of retries."""
        self.connected = False
        if self._down_since is None:
            self._down_since = time.monotonic()
            log.warning("show %s: %s at %s:%d; playing alone and trying again (every %.0f s at most)",
                        self.show, why, self.settings.broker, self.settings.port, RETRY_S[1])

    # -- in -----------------------------------------------------------------------------------
    def _message(self, _client: Any, _userdata: Any, message: Any) -> None:
        try:
            checked = decode(self.show, message.topic, message.payload, bool(message.retain))
        except BadMessage as exc:
            self.reject("bad message", f"{message.topic[:80]}: {exc}")
            return
        if checked.box == self.box:
            return  # our own, back from the broker
        if self.settings.boxes and checked.box not in self.settings.boxes:
            self.reject("unknown box", checked.box)
            return
        self.received += 1
        if not checked.retained and abs(self.wall() - checked.t) > SKEW_S and checked.box not in self._skewed:
            self._skewed.add(checked.box)  # once per box: `boxes` or a bounded show keeps this small
            log.warning("show %s: box %s's clock is %+.1f s from ours: effects on the show's clock play out "
                        "of phase (is NTP reaching both?)", self.show, checked.box, checked.t - self.wall())
        self.on_message(checked)

    def reject(self, trouble: str, detail: str) -> None:
        """A message from the network that is not the show's: dropped with one log line, at most
        DROPS_LOGGED[0] lines in DROPS_LOGGED[1] seconds (the rest are counted in the next line)."""
        self.rejected += 1
        now = time.monotonic()
        start, logged = self._drops_window
        if now - start >= DROPS_LOGGED[1]:
            start, logged = now, 0
        if logged >= DROPS_LOGGED[0]:
            self._drops_unlogged += 1
            return
        self._drops_window = (start, logged + 1)
        more = f" ({self._drops_unlogged} more dropped before this, not logged)" if self._drops_unlogged else ""
        self._drops_unlogged = 0
        log.warning("show %s: %s: %s; dropped%s", self.show, trouble, detail, more)

    def close(self) -> None:
        """Say goodbye and disconnect, waiting CLOSE_WAIT_S at most (never for the network)."""
        if self._client is None or self._closing.is_set():
            return
        if self.connected:
            self._client.publish(topic(self.show, "presence", self.box),
                                 encode(self.box, self.wall(), online=False), 1, True)
        self._closing.set()
        self._wake.set()
        closer = threading.Thread(target=self._disconnect, name="show-close", daemon=True)
        closer.start()
        closer.join(CLOSE_WAIT_S)

    def _disconnect(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
