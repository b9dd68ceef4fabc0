"""`python -m benchmarks` runs benchmarks/run.py."""

from .run import main

main()
