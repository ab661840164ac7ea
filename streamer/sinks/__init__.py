"""Outputs: one `Sink` contract (base), one class per output (annotated and filtered video, JSON Lines,
COCO, scorer text), the registry of output names, plus the output folder's lock and the window."""
