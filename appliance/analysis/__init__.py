"""Analysis stages beside the display loop: pose, person mask, style keyframes; one module each.

Each module registers the builder of its stage with `appliance.core.registry`; the results are
the typed ones of `appliance.core.results`.
"""
