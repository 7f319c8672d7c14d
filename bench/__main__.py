"""python -m bench (from the repository's root): the same as `make bench` and bench/run.py."""

from bench.harness import main

main()
