"""training/: fit, evaluate, tune, gate, the model card, drift."""
