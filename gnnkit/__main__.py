"""``python -m gnnkit`` runs the ``gnnkit`` command."""

import sys

from gnnkit.cli.main import main

sys.exit(main())
