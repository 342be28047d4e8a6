"""Entry point of one measurement: `python -m bench.child NAME SIDE SIZE WORKDIR [--profile FILE]`."""

from __future__ import annotations

import sys

from bench.harness import child_main

if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1:]))
