"""What the commands print: per-image errors, a progress bar on stderr, milliseconds."""

from __future__ import annotations

import json
import sys

OVERWRITE_HINT = "add --overwrite to replace it, or "  # how a command lets a file be replaced


def report_error(as_json: bool, image_path: str, message: str) -> None:
    if as_json:
        print(json.dumps({"image": image_path, "error": message}), flush=True)
    else:
        print(f"{image_path}: error: {message}", file=sys.stderr, flush=True)


def report_skipped(as_json: bool, path: str, reason: str) -> None:
    """A file a folder held that is not run on (not a JPEG, hidden, …): said, and no failure."""
    if as_json:
        print(json.dumps({"image": path, "skipped": reason}), flush=True)
    else:
        print(f"{path}: skipped: {reason}", file=sys.stderr, flush=True)


def progress_bar(label: str):
    """show(done, total, unit): a one-line bar on stderr, redrawn in place."""
    def show(done: int, total: int, unit: str = "") -> None:
        amount = f"{done}/{total} {unit}" if unit else f"{done / 1e6:.1f}/{total / 1e6:.1f} MB"
        if not total:
            amount = f"{done} {unit}" if unit else f"{done / 1e6:.1f} MB"
        filled = done * 30 // total if total else 0
        bar = f" [{'#' * filled}{'.' * (30 - filled)}]" if total else ""
        print(f"\r{label}{bar} {amount}", end="", file=sys.stderr, flush=True)
    return show


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)
