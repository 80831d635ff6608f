"""Codecs: one module per way in, each turning its format into penguins for the one validation and predictor."""
