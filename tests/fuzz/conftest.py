"""tests/fuzz runs standalone too (``pytest tests/fuzz``): its helpers import from this folder
under --import-mode=importlib."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
