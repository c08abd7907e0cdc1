"""Where a style comes from and how it reaches every displayed frame.

- `sources`: a style named in config ("kandinsky", "builtin:N", "blend:N=w,M=w", or a picture
  in a styles folder) resolved to either weights over the 26 built-in styles or a style image;
- `cache`: a style image turned into a style vector by the predictor model, cached on disk by
  the image's content hash and the model's hash, so a restart does not recompute it;
- `flow`: the cheap part, run per displayed frame: the newest keyframe is carried forward to
  the current frame along optical flow, so the painting moves with the visitor between keyframes.

The slow part, painting keyframes, is the style analysis stage (`appliance.analysis.style`).
"""
