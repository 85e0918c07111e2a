"""`python -m sync`: the command line."""

import sys

from sync.cli.main import main

sys.exit(main())
