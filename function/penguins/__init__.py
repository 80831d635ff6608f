"""Penguin species prediction: the package the Cloud Function imports."""

SERVICE_NAME = "penguin-species"
__version__ = "1.0.0"
