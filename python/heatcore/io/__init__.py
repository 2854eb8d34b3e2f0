"""Readers and writers: points, images, video frames, detections, Console API."""
