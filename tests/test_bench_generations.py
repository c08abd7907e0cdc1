"""`appliance bench --generation-loss`: the README's generation-loss table, from the clip's room."""

from __future__ import annotations

import json

from conftest import run_cli


def test_the_command_prints_and_keeps_a_similarity_that_falls_with_every_generation(tmp_path):
    done = run_cli("bench", "--generation-loss", "--json", str(tmp_path / "loss.json"))
    assert done.returncode == 0, done.stderr
    rows = [line.split("|") for line in done.stdout.splitlines() if line.startswith("| ") and line[2].isdigit()]
    means = [float(row[-2]) for row in rows]
    assert len(means) == 8 and all(b < a for a, b in zip(means[:5], means[1:5])), done.stdout  # fast at first
    assert all(c < a for a, c in zip(means, means[2:])), done.stdout  # then slowly, but never back
    assert 0.2 < means[-1] < means[0] - 0.2 and means[0] < 0.95  # a restoration keeps much; eight lose more
    kept = json.loads((tmp_path / "loss.json").read_text())
    assert kept["ssim_mean"] == means and kept["falls_every_generation"]
