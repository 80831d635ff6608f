"""The function over HTTP: the real Functions Framework app and real server processes."""
