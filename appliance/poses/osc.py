"""OSC with other software (Max, TouchDesigner, SuperCollider): pose events and keypoints out,
commands in.

Sound and light designers in galleries speak OSC over UDP, so events go out as
`/pose/event <track_id:int> <pose:str> <"start"|"end">` and, if asked, each track's keypoints
as `/pose/<track_id>/keypoints` with 51 floats (x, y, score; x and y divided by the frame
size, so receivers need not know the camera resolution). Keypoints are rate-limited per track
by the frames' timestamps: a 30 fps camera must not flood a patch that wants 10 updates a
second. UDP is fire-and-forget: a receiver that is not running costs nothing.

The network is never a reason to stop: the host is looked up when the first message goes out,
not at start (a `.local` name does not resolve while the network is still coming up at boot),
and a host that does not resolve or a send that fails (no route, a broadcast address without
permission) is logged once, the message dropped, and the host looked up again with a growing
pause (1 s, doubling, at most a minute) until it answers; then that is logged once too.

Commands come in only when `[poses.osc] listen_port` is set (nothing listens on the network by
default), on 127.0.0.1 unless `listen_host` opens it wider: `/painting/save` saves the evening's
painting (`OscListener`, python-osc's own UDP server on its own thread).
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from typing import Callable

import numpy as np
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import BlockingOSCUDPServer
from pythonosc.udp_client import SimpleUDPClient

from appliance.poses.events import PoseEvent

log = logging.getLogger(__name__)

RETRY_S = (1.0, 60.0)  # first and longest pause before the host is looked up again
LOOKUP_WAIT_S = 0.05  # how long a message waits for the host to be looked up


def numeric_client(host: str, port: int) -> SimpleUDPClient:
    """A client to the host's address, looked up once here: python-osc keeps the name and
    would look it up again on every message, on the pose stage's thread."""
    family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
    return SimpleUDPClient(address[0], port, allow_broadcast=True, family=family)


class OscSender:
    """Sends to one host:port; `frame_size` (width, height) normalises keypoint x and y."""

    def __init__(self, host: str, port: int, frame_size: tuple[int, int],
                 keypoint_rate: float = 0.0, client: SimpleUDPClient | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 connect: Callable[[str, int], SimpleUDPClient] | None = None):
        """`keypoint_rate`: keypoint messages per second per track (0: none are sent).
        `connect(host, port)` makes the client (the seam tests use to inject a failing network)."""
        self.host, self.port = host, port
        self.client = client
        self._connect = connect or numeric_client
        self.frame_size = frame_size
        self.keypoint_rate = keypoint_rate
        self.dropped = 0  # messages not sent since the last one that was
        self._last_sent: dict[int, float] = {}
        self._clock = clock
        self._retry_at = 0.0
        self._pause = RETRY_S[0]
        self._trouble = ""  # what went wrong last (logged once until it is over)
        self._lookup: threading.Thread | None = None
        self._found: SimpleUDPClient | BaseException | None = None

    def send_event(self, event: PoseEvent) -> None:
        self._send("/pose/event", [int(event.track), event.pose, event.event])

    def _send(self, address: str, values: list) -> bool:
        client = self._connected()
        if client is None:
            self.dropped += 1
            return False
        try:
            client.send_message(address, values)
        except OSError as exc:
            self._fail(f"cannot send ({exc})")
            self.client = None  # looked up again after the pause: the address may have changed
            return False
        if self._trouble:
            log.info("OSC to %s:%d works again (%d messages dropped meanwhile)", self.host, self.port, self.dropped)
            self._trouble, self._pause = "", RETRY_S[0]
        self.dropped = 0
        return True

    def _connected(self) -> SimpleUDPClient | None:
        """The client, once the host is looked up. The lookup runs in its own thread and is
        waited for only LOOKUP_WAIT_S (an address or a name in /etc/hosts is found at once): a
        name server that does not answer can take many seconds, and the pose stage must not wait."""
        if self.client is None and self._lookup is None and self._clock() >= self._retry_at:
            self._lookup = threading.Thread(target=self._look_up, name="osc-lookup", daemon=True)
            self._lookup.start()
            self._lookup.join(LOOKUP_WAIT_S)
        lookup = self._lookup
        if lookup is not None and not lookup.is_alive():
            self._lookup = None
            if isinstance(self._found, BaseException):
                self._fail(f"cannot look the host up ({self._found})")
            else:
                self.client = self._found
        return self.client

    def _look_up(self) -> None:
        try:
            self._found = self._connect(self.host, self.port)
        except (OSError, ValueError, UnicodeError) as exc:
            self._found = exc

    def wait_for_lookup(self, timeout: float = 5.0) -> None:
        """Block until a running lookup ends (tests and the first message of a short run)."""
        if self._lookup is not None:
            self._lookup.join(timeout)

    def _fail(self, trouble: str) -> None:
        self.dropped += 1
        if trouble != self._trouble:
            log.warning("OSC to %s:%d: %s; pose messages are dropped and it is tried again, at most "
                        "every %.0f s", self.host, self.port, trouble, RETRY_S[1])
        self._trouble = trouble
        self._retry_at = self._clock() + self._pause
        self._pause = min(self._pause * 2, RETRY_S[1])

    def send_keypoints(self, track_id: int, keypoints: np.ndarray, t: float) -> bool:
        """Send this track's keypoints unless one was sent less than 1/rate seconds ago."""
        if self.keypoint_rate <= 0:
            return False
        last = self._last_sent.get(track_id)
        if last is not None and t - last < 1.0 / self.keypoint_rate - 1e-9:
            return False
        self._last_sent[track_id] = t
        w, h = self.frame_size
        values = np.asarray(keypoints, dtype=np.float64) / np.array([w, h, 1.0])
        values[:, :2] = values[:, :2].clip(0.0, 1.0)  # models may place a point in the padding
        return self._send(f"/pose/{int(track_id)}/keypoints", [float(v) for v in values.ravel()])

    def forget(self, track_id: int) -> None:
        self._last_sent.pop(track_id, None)

    def close(self) -> None:
        if self.client is not None:
            self.client.close()


class OscListener:
    """OSC commands in: each address in `commands` calls its function (with no arguments) on
    the listener's own thread, so the functions must be thread-safe (they only ask: the
    pipeline acts in its display loop). Other addresses are logged once each and ignored. A
    pipeline observer: it stops listening when the pipeline stops. The port is bound here,
    so a port in use raises OSError at once."""

    def __init__(self, host: str, port: int, commands: dict[str, Callable[[], object]]):
        dispatcher = Dispatcher()
        for address, command in commands.items():
            dispatcher.map(address, self._handler(address, command))
        dispatcher.set_default_handler(self._unknown)
        self._unknowns: set[str] = set()
        self.server = BlockingOSCUDPServer((host, port), dispatcher)
        self.server.handle_error = self._error
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2},
                                       name="osc-listen", daemon=True)
        self.thread.start()
        log.info("OSC commands taken on %s:%d (%s)", *self.address[:2], ", ".join(commands))

    @property
    def address(self) -> tuple:
        """(host, port) listened on (the port the system chose, when 0 was asked for)."""
        return self.server.server_address

    @staticmethod
    def _handler(address: str, command: Callable[[], object]) -> Callable[..., None]:
        def handle(_address: str, *_args: object) -> None:
            log.info("OSC %s", address)
            command()
        return handle

    def _unknown(self, address: str, *_args: object) -> None:
        if address not in self._unknowns and len(self._unknowns) < 20:  # a noisy desk: bounded
            self._unknowns.add(address)
            log.warning("OSC %s: not a command here (ignored from now on)", address[:80])

    def _error(self, _request: object, client: tuple) -> None:
        log.warning("OSC: a message from %s could not be handled", client[0])

    def frame_shown(self, pipeline: object) -> None:
        pass

    def stopped(self, pipeline: object) -> None:
        self.close()

    def close(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
            self.thread.join(2.0)
        self.server.server_close()
