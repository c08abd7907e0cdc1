"""`appliance bench`: one module per budget, the `--all` run of them all, and the README tables.

Modules: `run` (a mode paced like a camera), `models` (bare invokes), `pose` (the pose stage
against its bare invoke), `style` (keyframes, carry-forward, flicker), `memory` (peak RSS, soak,
start-up, each in a fresh process), `people` (the clip's walkers found by the pose stage, against
the clip's own ground truth in `truth`), `budgets` (`--all`), `report` (the Markdown tables).
"""
