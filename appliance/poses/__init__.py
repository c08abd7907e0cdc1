"""Poses over time: tracks with stable ids, smoothing, named poses from data, events, OSC.

Each module is one job with a small interface, so the display pipeline can take only what it
needs: `tracking.Tracker`, `smoothing.KeypointSmoother`, `rules.load_rules`, `events.PoseEvents`,
`teach.PoseExamples`, `osc.OscSender`, `recording.PoseRecorder` / `read_recording`, and
`watch.PoseWatcher`, which runs tracker -> rules -> events per frame (and smooths for drawing).
"""
