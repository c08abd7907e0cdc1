"""Each source kind that can run on this machine, and the clear errors of those that cannot."""

from __future__ import annotations

import numpy as np
import pytest

from appliance.errors import SourceError
from appliance.sources import create_source, parse_source_spec
from appliance.paths import SAMPLE_CLIP
from appliance.sources.picamera2 import Picamera2Source
from appliance.sources.synthetic import SyntheticSource, decode_index


def read_all(source, limit=1000) -> list[np.ndarray]:
    source.open()
    try:
        frames = []
        while len(frames) < limit and (image := source.read()) is not None:
            frames.append(image)
        return frames
    finally:
        source.close()


def test_sample_clip_is_real_footage_of_the_promised_shape():
    frames = read_all(create_source("sample"))
    assert len(frames) == 150
    assert frames[0].shape == (576, 768, 3) and frames[0].dtype == np.uint8
    # Real footage moves: walkers change the picture between the first and last frame.
    assert np.abs(frames[0].astype(int) - frames[-1].astype(int)).mean() > 2.0


def test_video_file_loops_when_asked():
    source = create_source(str(SAMPLE_CLIP), loop=True)
    frames = read_all(source, limit=160)
    assert len(frames) == 160
    assert np.array_equal(frames[150], frames[0])
    assert source.fps == pytest.approx(10.0)


def test_synthetic_frames_carry_their_index_and_repeat_exactly():
    source = create_source("synthetic", width=320, height=240, fps=25)
    frames = read_all(source, limit=40)
    assert [decode_index(f) for f in frames] == list(range(40))
    assert np.array_equal(SyntheticSource(320, 240, 25).render(17), frames[17])
    assert not np.array_equal(frames[0], frames[20])  # the scene moves


def test_image_source_gives_one_frame_or_repeats_it(sample_png, sample_frames):
    once = read_all(create_source(str(sample_png)))
    assert len(once) == 1 and np.array_equal(once[0], sample_frames[3])
    assert len(read_all(create_source(str(sample_png), loop=True), limit=5)) == 5


def test_a_file_that_is_not_a_video_fails_with_one_clear_line(tmp_path):
    bogus = tmp_path / "notes.mp4"
    bogus.write_text("not a video")
    with pytest.raises(SourceError, match=r"notes.mp4: cannot open as video|notes.mp4: no frames"):
        create_source(str(bogus)).open()
    broken_png = tmp_path / "broken.png"
    broken_png.write_bytes(b"\x89PNG broken")
    with pytest.raises(SourceError, match="broken.png: cannot read as an image"):
        create_source(str(broken_png)).open()


def test_missing_usb_camera_is_a_clear_error():
    source = create_source("camera:63")  # /dev/video63: not present on a test machine
    with pytest.raises(SourceError, match=r"camera:63: cannot open /dev/video63"):
        source.open()


@pytest.mark.parametrize("spec, message", [
    ("camera:x", "camera number 'x' is not a number"),
    ("/no/such/clip.mp4", "no such file '/no/such/clip.mp4'"),
])
def test_bad_specs_are_rejected(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_source_spec(spec)


def test_picamera2_missing_names_the_apt_package():
    try:
        import picamera2  # noqa: F401
        pytest.skip("picamera2 is installed on this machine")
    except ImportError:
        pass
    with pytest.raises(SourceError, match=r"picamera2: the picamera2 Python module is not available.*"
                                          r"apt install python3-picamera2"):
        Picamera2Source(640, 480, 30).open()


class FakePicamera2:
    """Stands in for picamera2.Picamera2 with the calls the source makes, recording them."""

    def __init__(self, frames: list[np.ndarray]):
        self.frames = list(frames)
        self.calls: list[str] = []
        self.config = None

    def create_video_configuration(self, main, controls, buffer_count):
        self.calls.append("create_video_configuration")
        return {"main": main, "controls": controls, "buffer_count": buffer_count}

    def configure(self, config):
        self.config = config
        self.calls.append("configure")

    def start(self):
        self.calls.append("start")

    def capture_array(self, stream):
        assert stream == "main"
        if not self.frames:
            raise RuntimeError("Camera frontend has timed out!")
        return self.frames.pop(0)

    def stop(self):
        self.calls.append("stop")

    def close(self):
        self.calls.append("close")


def test_picamera2_source_drives_the_camera_api(sample_frames):
    camera = FakePicamera2(sample_frames[:3])
    source = Picamera2Source(768, 576, 30, camera_factory=lambda: camera)
    source.open()
    assert camera.config["main"] == {"size": (768, 576), "format": "RGB888"}
    assert camera.config["controls"] == {"FrameRate": 30}
    assert np.array_equal(source.read(), sample_frames[0])
    source.read(), source.read()
    with pytest.raises(SourceError, match="picamera2: capture failed .*timed out"):
        source.read()
    source.close()
    assert camera.calls == ["create_video_configuration", "configure", "start", "stop", "close"]


def test_picamera2_with_no_camera_attached():
    def no_camera():
        raise IndexError("list index out of range")
    with pytest.raises(SourceError, match="picamera2: no camera found"):
        Picamera2Source(640, 480, 30, camera_factory=no_camera).open()
