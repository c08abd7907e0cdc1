"""`bench --all`'s figure for the technician's page: the display loop with the page open and
previewing against without, measured in turns in one run, and its budget line."""

from __future__ import annotations

from appliance.bench.report import web_budgets
from appliance.bench.web import web_page_bench
from appliance.config import Settings


def test_the_page_bench_measures_both_and_a_browser_really_previewed():
    lines = []
    result = web_page_bench(Settings(), frames=200, rounds=2, say=lines.append)
    assert result["mode"] == "aged-film" and len(result["with_page_runs"]) == 2
    assert result["without_fps"] > 0 and result["with_page_fps"] > 0
    assert result["ratio"] == round(result["with_page_fps"] / result["without_fps"], 3)
    assert result["previews"] > 0
    assert lines and "previewing" in lines[0]
    (check,) = web_budgets({"web_page": result})
    assert check["met"] == ("yes" if result["ratio"] >= 0.95 else "NO")
    assert web_budgets({}) == []
