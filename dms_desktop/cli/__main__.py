"""`python -m dms_desktop.cli`: the same as the `dms` command."""

import sys

from dms_desktop.cli.program import main

sys.exit(main())
