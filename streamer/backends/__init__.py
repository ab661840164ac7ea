"""Inference engines behind one interface: torch, onnxruntime, tensorrt.

- `factory.load_engine(model, backend=, device=, precision=, max_batch=)`: a ready Engine (see base.py);
- `export.export_onnx(model, spec, path)`: ONNX with a dynamic batch axis, checked against torch;
- `calibrate.calibrate_model(model)`: QDQ INT8 model, installed only if `int8_guard` accepts it;
- `cache.EngineCache`: built engines under engines/cache/, keyed by `cache.CacheKey`.
Nothing is imported here, so that `streamer.backends.base` stays cheap to import.
"""
