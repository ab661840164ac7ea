"""Low-level operations shared by models, fusion and evaluation (box geometry)."""
