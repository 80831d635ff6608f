"""From a penguin to its answer: XGBoost's trees as lookup tables, probabilities, warnings, explanations."""
