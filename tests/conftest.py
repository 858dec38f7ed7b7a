"""Make the engine importable as plain ``spo_backup`` (how hosts run it) for the tests."""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "module_utils"))
