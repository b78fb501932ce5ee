"""`python -m lwface_desktop` is the same as the `lwface-desktop` command."""

import sys

from lwface_desktop.cli import main

sys.exit(main())
