"""Benchmarks of tinygrad_drop against hand-written NumPy and PyTorch: `python -m benchmarks`."""
