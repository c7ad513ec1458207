"""Reference implementations that are not on PyPI, kept for tests only (each file names its source and license)."""
