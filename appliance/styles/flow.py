"""Carry a stylised keyframe forward to the current frame along cheap optical flow.

The model paints one keyframe while the display shows many frames. Holding the old painting
makes it lag behind the visitor and jump when the next one lands; painting every frame anew
flickers (the network is not temporally stable). Instead, per displayed frame: DIS optical flow
(OpenCV, ultrafast preset) on small grey copies, chained frame to frame back to the keyframe's
source frame, says where each current pixel was then; the painting is remapped accordingly.
Where nothing changed the painting is left exactly as it is (no swimming brush texture), and a
new keyframe fades in over a few frames so its arrival does not jump.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from appliance.core.lazy import cv2


def flow_frame(image_bgr: np.ndarray, width: int) -> np.ndarray:
    """A grey copy `width` pixels wide (aspect kept) on which flow is computed; a sliver of a
    frame is stretched to between 32 px (DIS's pyramid needs it) and twice `width` tall (the
    flow is scaled back per axis)."""
    h, w = image_bgr.shape[:2]
    size = (width, min(2 * width, max(32, round(h * width / w))))
    grey = cv2.cvtColor(image_bgr, cv2.COLOR_BGR2GRAY) if image_bgr.ndim == 3 else image_bgr
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA)


def dis_flow():
    """DIS at its ultrafast preset, refined down to half the flow frame's resolution (the preset
    stops at a quarter): on a walking visitor the coarser flow leaves the carried painting a
    limb behind, which a visitor sees as smearing; this is about 1 ms more per frame here."""
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
    dis.setFinestScale(1)
    return dis


STILL_LEVEL = 6.0  # grey levels of change (after a small blur) below which a pixel did not move


HISTORY = 48  # displayed frames of step flows kept (a keyframe ~1.5 s old at 30 fps can be chained)


@dataclass
class _Step:
    index: int
    grey: np.ndarray
    flow: np.ndarray | None  # this frame -> the one displayed before it


class FlowCarrier:
    """`carry(painting, source_grey, current_bgr, ...)`: the painting moved to where the content is now.

    Given frame indices, the way back to the keyframe's source frame is chained from small
    frame-to-frame steps (each one easy for DIS), composed per displayed frame; a person who
    walked far since the keyframe is still followed. Without indices, or when the source frame
    is older than the history, one direct flow to the source frame is used.
    """

    def __init__(self, flow_width: int = 160, fade_frames: int = 3):
        self.flow_width = flow_width
        self.fade_frames = fade_frames
        self.dis = dis_flow()
        self._grids: dict[tuple[int, int], np.ndarray] = {}
        self._kernel = np.ones((5, 5), np.uint8)
        self._history: deque[_Step] = deque(maxlen=HISTORY)
        self._chain: tuple[object, int, np.ndarray] | None = None  # key, frame index, displacement
        self._previous: np.ndarray | None = None
        self._key_id: object = None
        self._fade_left = 0
        self._source: np.ndarray | None = None  # the grey frame the newest keyframe was painted from
        self._still = np.ones((1, 1), np.float32)

    def grid(self, h: int, w: int) -> np.ndarray:
        if (h, w) not in self._grids:
            xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
            self._grids[(h, w)] = np.dstack([xs, ys])
        return self._grids[(h, w)]

    def flow(self, current_grey: np.ndarray, source_grey: np.ndarray) -> np.ndarray:
        """Per current pixel, the offset to where it was in the source frame (flow pixels).

        Where the picture has not changed since the keyframe, the flow is forced to zero: DIS
        finds sub-pixel noise in still, flat areas, and remapping by noise makes the painting's
        brush texture swim (flicker) where nothing moved.
        """
        return self.dis.calc(current_grey, source_grey, None) * self.motion(current_grey, source_grey)[..., None]

    def motion(self, current_grey: np.ndarray, source_grey: np.ndarray) -> np.ndarray:
        """0-1 weight of where the picture changed between the two frames."""
        changed = cv2.absdiff(current_grey, source_grey)
        changed = cv2.dilate(cv2.GaussianBlur(changed, (5, 5), 0), self._kernel)
        return np.clip((changed.astype(np.float32) - STILL_LEVEL) / STILL_LEVEL, 0.0, 1.0)

    def flow_and_motion(self, current_grey: np.ndarray, source_grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The raw DIS flow and where the picture changed."""
        return self.dis.calc(current_grey, source_grey, None), self.motion(current_grey, source_grey)

    def warp(self, painting: np.ndarray, flow: np.ndarray) -> np.ndarray:
        """Remap `painting` (any resolution) by a flow computed at flow resolution."""
        ph, pw = painting.shape[:2]
        fh, fw = flow.shape[:2]
        scaled = cv2.resize(flow, (pw, ph), interpolation=cv2.INTER_LINEAR)
        sx, sy = pw / fw, ph / fh
        if abs(sx - sy) < 1e-3:  # the usual case (same aspect): one OpenCV pass
            cv2.scaleAdd(scaled, sx, self.grid(ph, pw), dst=scaled)
        else:
            scaled *= np.float32([sx, sy])
            scaled += self.grid(ph, pw)
        return cv2.remap(painting, scaled, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    def carry(self, painting: np.ndarray, source_grey: np.ndarray, current_bgr: np.ndarray,
              key_id: object = None, index: int | None = None, source_index: int | None = None) -> np.ndarray:
        """The painting aligned with `current_bgr`; a new `key_id` fades in over fade_frames."""
        current = flow_frame(current_bgr, source_grey.shape[1])
        if current.shape != source_grey.shape:
            return self._fade(painting, key_id, source_grey)
        if index is None or source_index is None:
            displacement = self.dis.calc(current, source_grey, None)
        else:
            displacement = self._chained(current, source_grey, key_id, index, source_index)
        moved = displacement * self.motion(current, source_grey)[..., None]
        return self._fade(self.warp(painting, moved), key_id, source_grey)

    def _chained(self, current, source_grey, key_id, index, source_index) -> np.ndarray:
        """Displacement current -> source frame, composed from the frame-to-frame steps."""
        self._record(index, current)
        chain = self._chain
        if chain is not None and chain[0] == key_id and chain[1] == index:
            return chain[2]
        step = self._history[-1].flow
        if chain is not None and chain[0] == key_id and len(self._history) > 1 \
                and self._history[-2].index == chain[1] and step is not None:
            displacement = self._compose(chain[2], step)
        else:
            displacement = self._from_history(current, source_grey, source_index)
        self._chain = (key_id, index, displacement)
        return displacement

    def _record(self, index: int, grey: np.ndarray) -> None:
        if self._history and self._history[-1].index == index:
            return
        last = self._history[-1] if self._history else None
        flow = None
        if last is not None and last.grey.shape == grey.shape and last.index < index:
            flow = self.dis.calc(grey, last.grey, None)
        self._history.append(_Step(index, grey, flow))

    def _compose(self, displacement: np.ndarray, step: np.ndarray) -> np.ndarray:
        """d_t(x) = step(x) + d_(t-1)(x + step(x))."""
        h, w = step.shape[:2]
        moved = cv2.remap(displacement, cv2.add(self.grid(h, w), step), None, cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)
        return cv2.add(step, moved, dst=moved)

    def _from_history(self, current, source_grey, source_index) -> np.ndarray:
        steps = list(self._history)
        start = next((i for i, s in enumerate(steps) if s.index == source_index), None)
        if start is None or any(s.flow is None for s in steps[start + 1:]):
            return self.dis.calc(current, source_grey, None)
        displacement = np.zeros(current.shape + (2,), np.float32)
        for step in steps[start + 1:]:
            displacement = self._compose(displacement, step.flow)
        return displacement
    def _fade(self, out: np.ndarray, key_id: object, source_grey: np.ndarray) -> np.ndarray:
        """A new keyframe fades in over the one before, where the picture stayed still between
        their two frames: there the new brushwork would jump. Where something moved (a visitor
        walking), the old painting is of where they were, so the new one is taken at once."""
        if key_id != self._key_id:
            fresh = self._previous is None or self._previous.shape != out.shape
            self._key_id, self._fade_left = key_id, 0 if fresh else self.fade_frames
            if not fresh:
                self._still = self._still_between(source_grey, out.shape[:2])
            self._source = source_grey
        if self._fade_left > 0:
            keep = self._still * (self._fade_left / (self.fade_frames + 1))
            out = cv2.blendLinear(self._previous, out, keep, 1.0 - keep)
            self._fade_left -= 1
        self._previous = out
        return out

    def _still_between(self, source_grey: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        """float32 at `size` (h, w): 1 where the new keyframe's frame matches the last one's."""
        last = self._source
        if last is None or last.shape != source_grey.shape:
            return np.ones(size, np.float32)
        still = 1.0 - self.motion(source_grey, last)
        return cv2.resize(still, (size[1], size[0]), interpolation=cv2.INTER_LINEAR)

    def reset(self) -> None:
        self._previous, self._key_id, self._fade_left, self._chain = None, None, 0, None
        self._source = None
        self._history.clear()
