"""`python -m sync`: the command line."""

import sys

from sync.cli import main

sys.exit(main())
