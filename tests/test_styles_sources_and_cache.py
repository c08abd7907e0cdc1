"""Style sources: names resolve, the shipped Kandinsky-like picture is there and reproducible,
and picture styles are cached by content (the predictor runs once per distinct picture)."""

from __future__ import annotations

import importlib.util
import shutil

import cv2
import numpy as np
import pytest

from appliance.effects.style import Style
from appliance.errors import ConfigError
from appliance.models.manifest import ModelStore
from appliance.config.schema import build
from appliance.paths import style_cache_dir
from appliance.styles.cache import StyleVectorCache
from appliance.styles.sources import parse_style
from appliance.paths import SHIPPED_STYLES

from conftest import ROOT


@pytest.fixture(scope="module")
def store() -> ModelStore:
    return ModelStore(threads=2)


def test_builtin_and_blend_styles_become_weights():
    one = parse_style("builtin:7").weight_array()
    assert one.shape == (26,) and one[7] == 1.0 and one.sum() == 1.0
    mix = parse_style("blend:3=3, 17=1").weight_array()
    assert mix[3] == pytest.approx(0.75) and mix[17] == pytest.approx(0.25)


@pytest.mark.parametrize("text", ["builtin:26", "builtin:x", "blend:", "blend:3=-1", "blend:3=0", "nosuchstyle"])
def test_a_bad_style_says_what_was_expected(text):
    with pytest.raises(ConfigError, match="expected"):
        parse_style(text)


def test_config_check_rejects_a_bad_builtin_style_by_key_path():
    problems: list[str] = []
    build(Style.Params, {"style": "builtin:40"}, "modes.paint.effects[0]", problems)
    assert len(problems) == 1 and problems[0].startswith("modes.paint.effects[0].style:")


def test_kandinsky_is_the_shipped_picture_and_a_styles_folder_comes_first(tmp_path):
    assert parse_style("kandinsky").image == SHIPPED_STYLES / "kandinsky.png"
    own = tmp_path / "kandinsky.jpg"
    own.write_bytes(b"not looked at here")
    assert parse_style("kandinsky", tmp_path).image == own
    assert parse_style(str(own)).image == own


def test_the_shipped_style_is_commit_sized_and_regenerates_from_its_seed(tmp_path):
    shipped = SHIPPED_STYLES / "kandinsky.png"
    assert shipped.stat().st_size < 300_000
    spec = importlib.util.spec_from_file_location("make_style", ROOT / "deploy" / "tools" / "make_kandinsky_style.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    assert tool.main(["--out", str(tmp_path / "k.png")]) == 0
    again = cv2.imread(str(tmp_path / "k.png")).astype(np.int16)
    assert np.abs(again - cv2.imread(str(shipped))).mean() < 0.5  # same picture (other OpenCV: ~same)
    picture = cv2.imread(str(shipped))
    hsv = cv2.cvtColor(picture, cv2.COLOR_BGR2HSV)
    assert (hsv[..., 1] > 150).mean() > 0.2  # vivid, not a pastel wash
    assert (hsv[..., 2] < 60).mean() > 0.01  # with bold black lines


def counting_predictor(store: ModelStore, calls: list):
    model = store.load("style_arbitrary_predict")

    def predict(x):
        calls.append(x.shape)
        return next(iter(model.run(x).values()))
    return predict


def test_style_vectors_are_cached_by_content_not_by_name(tmp_path, store, sample_png):
    calls: list = []
    sha = store.entries["style_arbitrary_predict"].sha256
    cache = StyleVectorCache(tmp_path / "cache", counting_predictor(store, calls), sha)
    first = cache.vector(sample_png)
    assert len(calls) == 1 and first.shape == (1, 1, 1, 100)
    renamed = tmp_path / "same-picture-other-name.png"
    shutil.copy(sample_png, renamed)
    restarted = StyleVectorCache(tmp_path / "cache", counting_predictor(store, calls), sha)
    assert np.array_equal(restarted.vector(renamed), first)
    assert len(calls) == 1, "the same content must come from the cache"
    assert not list((tmp_path / "cache").glob(".*tmp")), "no temp files left behind"
    # new content under the old name: computed again, and a different style
    shipped = cv2.imread(str(SHIPPED_STYLES / "kandinsky.png"))
    cv2.imwrite(str(renamed), shipped)
    changed = restarted.vector(renamed)
    assert len(calls) == 2
    cosine = float(np.dot(changed.ravel(), first.ravel()) / np.linalg.norm(changed) / np.linalg.norm(first))
    assert cosine < 0.95
    # a new predictor model invalidates the cache
    StyleVectorCache(tmp_path / "cache", counting_predictor(store, calls), "0" * 64).vector(renamed)
    assert len(calls) == 3


def test_the_cache_lives_in_the_state_folder_by_the_one_rule(tmp_path, monkeypatch):
    assert style_cache_dir(tmp_path) == tmp_path / "style-cache"
    monkeypatch.setenv("APPLIANCE_STATE_DIR", str(tmp_path / "env"))
    assert style_cache_dir(None) == tmp_path / "env" / "style-cache"
    monkeypatch.delenv("APPLIANCE_STATE_DIR")
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path / "systemd"))
    assert style_cache_dir(None) == tmp_path / "systemd" / "style-cache"


def test_a_torn_cache_file_is_recomputed(tmp_path, store, sample_png):
    calls: list = []
    sha = store.entries["style_arbitrary_predict"].sha256
    cache = StyleVectorCache(tmp_path, counting_predictor(store, calls), sha)
    good = cache.vector(sample_png)
    cached = next(tmp_path.glob("*.npy"))
    cached.write_bytes(cached.read_bytes()[:20])
    assert np.array_equal(cache.vector(sample_png), good) and len(calls) == 2
