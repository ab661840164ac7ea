"""Detection and quality-classification models in plain torch, and the model store."""
