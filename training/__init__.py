"""Training: fit the XGBoost model on Palmer Penguins, evaluate it, write and publish the artifact."""
