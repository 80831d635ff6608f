"""The repository itself: layout, pins, lint, docs examples, security promises."""
