"""Benchmark and load tools (not imported by the app). Importable by the tests, so the short
versions the suite runs share their code with the long runs."""
