"""Effects: the steps a mode chains on the display path, one module per effect, named as it is.

An effect is small: `Params` (a dataclass of its typed settings, validated from the mode's
TOML), `stages(context)` (the analysis it needs, as requests), `process(image, meta) -> image`
called once per displayed frame, and `close()`. It reads typed analysis results from
`meta.results` and must stay fast; it never builds a model. Each module registers its effect
with `appliance.core.registry.register_effect` (see `appliance.core.stages.Effect`).
"""
