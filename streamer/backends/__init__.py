"""Inference engines behind one interface: torch, onnxruntime, tensorrt."""
