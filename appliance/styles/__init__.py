"""Where a style comes from and how it reaches every displayed frame.

- `sources`: a style named in config ("kandinsky", "builtin:N", "blend:N=w,M=w", or a picture
  in a styles folder) resolved to either weights over the 26 built-in styles or a style image;
- `cache`: a style image turned into a style vector by the predictor model, cached on disk by
  the image's content hash and the model's hash, so a restart does not recompute it;
- `keyframes`: the slow part, run beside the display loop: one stylised keyframe at a time;
- `flow`: the cheap part, run per displayed frame: the newest keyframe is carried forward to
  the current frame along optical flow, so the painting moves with the visitor between keyframes.
"""

from appliance.styles.cache import StyleVectorCache, default_cache_dir
from appliance.styles.flow import FlowCarrier
from appliance.styles.keyframes import Keyframe, StyleAnalyzer, create_stylizer
from appliance.styles.sources import SHIPPED_STYLES, StyleSpec, parse_style

__all__ = ["FlowCarrier", "Keyframe", "SHIPPED_STYLES", "StyleAnalyzer", "StyleSpec",
           "StyleVectorCache", "create_stylizer", "default_cache_dir", "parse_style"]
