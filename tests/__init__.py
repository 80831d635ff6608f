"""The tests, grouped by layer; shared helpers and fakes in tests/support."""
