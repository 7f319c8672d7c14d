"""`make bench` runs this file (`.venv/bin/python bench/run.py`; from the repository's root,
`python -m bench` does the same): the harness is the package `bench` (bench/__init__.py)."""

import sys
from pathlib import Path

if __name__ == "__main__":
    # Run as a script, Python puts bench/ itself first on the path: put the repository's root
    # there instead, so that `bench` is the package and its modules shadow nothing.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)
    from bench.harness import main

    main()
