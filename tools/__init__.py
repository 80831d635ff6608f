"""What people run that is not a test: benchmarks and their peers, load, capacity, the local GCS flow, the lock."""
