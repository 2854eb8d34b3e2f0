"""Readers and writers: points, images, video frames, detections, Console API."""

# submodules, imported on use: heatcore.io.points, heatcore.io.video, ...
__all__ = ["aitrios_config", "console", "detections", "flatbuf", "points", "video"]
