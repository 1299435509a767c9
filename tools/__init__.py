"""Tooling around the program: the offline engine, the settings table generator, the benchmark."""
