"""Where models come from and how the process keeps one: the artifact format, its stores, the cache."""
