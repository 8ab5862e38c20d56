"""Benchmark and load tools, and the demo and synthetic data (`manage.py demo` / `synth`; not
imported by the app). Importable by the tests, so the short versions the suite runs share their
code with the long runs."""
