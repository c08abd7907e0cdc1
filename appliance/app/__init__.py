"""The commands: `appliance run`, `service`, `render`, `doctor` and the rest (cli.py)."""
