"""Analysis stages, run beside the display loop: one module per kind (`pose`, `mask`, `style`),
each registering the builder of its stage with `appliance.core.registry`."""
