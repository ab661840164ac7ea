"""The threaded pipeline: capture → inference (preprocess, quality gate, detector, fusion) → output."""
