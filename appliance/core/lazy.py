"""OpenCV, loaded on first use.

Effects declare their settings (`Params`) in their own modules, next to the code that paints,
and `appliance config check` reads those declarations through the registry. A check must not pay
for OpenCV (about 0.3 s and 60 MB on a Pi) nor fail where it is broken, so the modules on the
display path import it from here: the name is bound at import, the library is loaded the first
time a function of it is called, and from then on it is the real module object.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType


def lazy_module(name: str) -> ModuleType:
    """The module `name`, executed on first attribute access (importlib's LazyLoader)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None:
        raise ImportError(f"no module named {name!r}")
    loader = importlib.util.LazyLoader(spec.loader)
    spec.loader = loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    loader.exec_module(module)
    return module


cv2 = lazy_module("cv2")
