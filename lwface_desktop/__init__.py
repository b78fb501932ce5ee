"""lwface-desktop: find faces in photos and people in a live camera feed, offline, on a CPU."""

__version__ = "0.1.0"
