"""Fusion on the engine's device: decode detector outputs, NMS, ensemble fusion, post-filter."""

from streamer.fusion.decode import DecodeConfig, decode_detections
from streamer.fusion.fuser import FUSION_MODES, Fuser, FusionConfig, fuse
from streamer.fusion.nms import nms, soft_nms

__all__ = [
    "FUSION_MODES",
    "DecodeConfig",
    "Fuser",
    "FusionConfig",
    "decode_detections",
    "fuse",
    "nms",
    "soft_nms",
]
