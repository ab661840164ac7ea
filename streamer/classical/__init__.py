"""Classical artefact detection: thresholds, connected components and tile statistics."""

from streamer.classical.detector import ClassicalConfig, ClassicalDetector
from streamer.classical.fov import estimate_fov

__all__ = ["ClassicalConfig", "ClassicalDetector", "estimate_fov"]
