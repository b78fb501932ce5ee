"""The PySide6 face of the app. Everything that computes lives in lwface_desktop.core."""
