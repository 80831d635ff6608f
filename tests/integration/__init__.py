"""The function with its neighbours: fake-gcs-server, storage faults, the benchmark and capacity tools."""
