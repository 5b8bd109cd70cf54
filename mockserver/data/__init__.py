"""Curated reference data shipped with the kit (sites, instruments, sources)."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


@lru_cache(maxsize=None)
def load(name: str) -> Any:
    """A JSON file of this folder, parsed once."""
    return json.loads((HERE / name).read_text())
