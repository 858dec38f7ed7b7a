"""``python3 -m spo_backup``: the same command as the installed ``spo-backup``."""

import sys

from .cli import main

sys.exit(main())
