"""Outputs: H.264 video, JSON Lines, summary and a display window. Every sink is a context manager."""
