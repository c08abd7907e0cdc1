"""Pose events and keypoints to other software (Max, TouchDesigner, SuperCollider) over OSC.

Sound and light designers in galleries speak OSC over UDP, so events go out as
`/pose/event <track_id:int> <pose:str> <"start"|"end">` and, if asked, each track's keypoints
as `/pose/<track_id>/keypoints` with 51 floats (x, y, score; x and y divided by the frame
size, so receivers need not know the camera resolution). Keypoints are rate-limited per track
by the frames' timestamps: a 30 fps camera must not flood a patch that wants 10 updates a
second. UDP is fire-and-forget: a receiver that is not running costs nothing.
"""

from __future__ import annotations

import numpy as np
from pythonosc.udp_client import SimpleUDPClient

from appliance.poses.events import PoseEvent


class OscSender:
    """Sends to one host:port; `frame_size` (width, height) normalises keypoint x and y."""

    def __init__(self, host: str, port: int, frame_size: tuple[int, int],
                 keypoint_rate: float = 0.0, client: SimpleUDPClient | None = None):
        """`keypoint_rate`: keypoint messages per second per track (0: none are sent)."""
        self.client = client or SimpleUDPClient(host, port)
        self.frame_size = frame_size
        self.keypoint_rate = keypoint_rate
        self._last_sent: dict[int, float] = {}

    def send_event(self, event: PoseEvent) -> None:
        self.client.send_message("/pose/event", [int(event.track), event.pose, event.event])

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
        self.client.send_message(f"/pose/{int(track_id)}/keypoints", [float(v) for v in values.ravel()])
        return True

    def forget(self, track_id: int) -> None:
        self._last_sent.pop(track_id, None)

    def close(self) -> None:
        self.client.close()
