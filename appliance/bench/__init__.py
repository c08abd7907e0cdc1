"""`appliance bench`: one module per budget (modes, models, pose stage, style, memory), the
`--all` run that measures every one of them, and the README tables made from its JSON."""
