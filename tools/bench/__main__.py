"""`make bench` (python -m tools.bench): the deployable set against the framework floor; see benchmark.py."""

import sys

from tools.bench.benchmark import main

sys.exit(main())
