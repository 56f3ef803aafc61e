"""`python -m dms_desktop` opens the desktop window."""

import sys

from dms_desktop.gui.app import main

sys.exit(main())
