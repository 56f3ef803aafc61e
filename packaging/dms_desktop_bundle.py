"""The bundle's entry point (PyInstaller runs this script): see dms_desktop.launcher."""

import sys

from dms_desktop.launcher import main

if __name__ == "__main__":
    sys.exit(main())
