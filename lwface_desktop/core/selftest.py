"""The first-launch self-test: is everything the app needs here and intact? In words."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from lwface_desktop.core.errors import UserError


def settings_dir() -> Path:
    """Where Qt keeps this app's settings on Linux (QSettings, organisation "lwface")."""
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "lwface"


def run_checks(model: str | Path | None = None) -> list[tuple[bool, str]]:
    """(passed, sentence) for the model (explicit, else the usual search), the face cascade,
    the YuNet face model and the settings folder."""
    return [_check_model(model), _check_cascade(), _check_yunet(), _check_settings()]


def summary(results: list[tuple[bool, str]], details: str = "above") -> str:
    """One sentence: all passed, or how many failed (the details being above or below it)."""
    failed = sum(not passed for passed, _ in results)
    if not failed:
        return "All checks passed: lwface-desktop is ready."
    return f"{failed} check{'s' if failed > 1 else ''} failed: see {details}."


def _check_model(model: str | Path | None) -> tuple[bool, str]:
    from lwface_desktop.core import weights

    try:
        path = weights.resolve_weights(model)
        official = weights.OFFICIAL.get(path.stem)
        digest = weights.sha256(path) if official else None
    except UserError as e:
        return False, str(e)
    except OSError as e:
        return False, f"The model file cannot be read: {e.strerror or e}."
    if official is not None and digest != official:
        return False, (f"The model {path} is damaged (its SHA-256 is not the official {path.stem}'s). "
                       "Reinstall lwface-desktop or download it again.")
    # Loading is not enough: build the detector, which runs the network once on a small test
    # image and checks its output (a fraction of a second for yolov5n).
    from lwface_desktop.core.yolo.detector import YoloDetector, auto_precision

    precision, why = auto_precision()
    try:
        engine = YoloDetector(path, precision=precision).engine
    except UserError as e:
        return False, str(e)
    kernels = ("oneDNN's fused kernels" if engine == "fused"
               else "PyTorch's plain kernels (this torch lacks oneDNN's fused ones: slower)")
    live = f" The live camera runs it in {precision} ({why}) on {kernels}."
    if official is not None:
        return True, f"The {path.stem} model is intact (SHA-256 {official[:12]}…) and runs: {path}.{live}"
    return True, f"The model {path} loads and runs (not an official file, so no checksum to compare).{live}"


def _check_cascade() -> tuple[bool, str]:
    from lwface_desktop.core.cascade import FaceCascade

    try:
        FaceCascade()
    except Exception as e:  # a missing or unreadable XML raises OSError, ValueError, ParseError…
        return False, f"The face detector's cascade file is missing or broken: {e}"
    return True, "The face detector's cascade file loads."


def _check_yunet() -> tuple[bool, str]:
    from lwface_desktop.core.yunet import MODEL_SHA256, YuNetFaces

    try:
        YuNetFaces()
    except UserError as e:
        return False, str(e)
    return True, f"The YuNet face model is intact (SHA-256 {MODEL_SHA256[:12]}…)."


def _check_settings() -> tuple[bool, str]:
    folder = settings_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder):
            pass
    except OSError as e:
        return False, f"Settings cannot be saved in {folder}: {e.strerror or e}."
    return True, f"Settings can be saved in {folder}."
