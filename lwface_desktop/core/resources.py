"""Where the app's bundled files are, from a source checkout and from a PyInstaller build."""

from __future__ import annotations

import sys
from pathlib import Path


def resource_path(*parts: str) -> Path:
    """Path of a file under resources/: the repo's folder, or the frozen bundle's copy.

    build.spec copies resources/ to the bundle's top as "resources", mirroring this.
    """
    bundle = getattr(sys, "_MEIPASS", None)
    root = Path(bundle) if bundle else Path(__file__).resolve().parents[2]
    return root.joinpath("resources", *parts)
