"""Pure compute and I/O (numpy, Pillow, OpenCV, scikit-image, torch). Never imports Qt."""
