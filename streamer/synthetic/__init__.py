"""Procedural endoscopy frames and videos with exact EAD2019 artefact boxes, and frame degradations."""

from streamer.synthetic.dataset import write_ead2019_dataset, write_video
from streamer.synthetic.degrade import DEGRADATIONS, degrade
from streamer.synthetic.sample import SyntheticSample
from streamer.synthetic.scene import SyntheticVideo, generate_frame

__all__ = [
    "DEGRADATIONS",
    "SyntheticSample",
    "SyntheticVideo",
    "degrade",
    "generate_frame",
    "write_ead2019_dataset",
    "write_video",
]
