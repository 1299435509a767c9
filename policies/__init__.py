"""The CrossGuard policy pack (see README.md). Importable for tests; `__main__.py` is what the CLI runs."""
