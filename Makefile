# lwface-desktop: `make run` opens the app, `make test` runs the tests. Both set everything up.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH := torch==2.13.0
# Debian packages Qt needs to start headless (tests); Debian 13 maps libglib2.0-0 to its t64 name.
DEBIAN_PACKAGES := libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libglib2.0-0 fonts-dejavu-core
STAMP := $(VENV)/.installed
# The official YOLOv5n checkpoint, kept outside the repo (AGPL-3.0 weights are never committed).
WEIGHTS ?= $(abspath ../shared/models/yolov5n.pt)

.DEFAULT_GOAL := help
.PHONY: help install system-deps run test bench screenshot clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstalls only when pyproject.toml changes; torch first so the CPU build is the one kept.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check $(TORCH)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

install: $(STAMP) system-deps ## create .venv and install the app with its test tools

# Asks the linker what Qt's libraries lack rather than guessing package names per release.
system-deps: $(STAMP) ## install the Debian libraries Qt needs, if any are missing (needs root)
	@qt=$$($(BIN)/python -c 'import PySide6, pathlib; print(pathlib.Path(PySide6.__file__).parent / "Qt")'); \
	if ldd $$qt/lib/libQt6Widgets.so.6 $$qt/plugins/platforms/libqoffscreen.so | grep -q "not found"; then \
		echo "installing Debian packages Qt needs: $(DEBIAN_PACKAGES)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(DEBIAN_PACKAGES) >/dev/null; \
	fi

run: install ## set up and open the app
	$(BIN)/lwface-desktop

test: install ## set up and run the whole test suite headless
	QT_QPA_PLATFORM=offscreen LWFACE_TEST_WEIGHTS=$(WEIGHTS) $(BIN)/python -m pytest

bench: install ## the README's figures: faces on a 12-MP photo, YOLOv5n at 640 and 320, its variants
	$(BIN)/python benchmarks/photos.py benchmarks/photos >/dev/null
	$(BIN)/python benchmarks/gallery_baseline.py benchmarks/photos/astronaut-12mp.jpg 3
	$(BIN)/lwface-desktop bench --runs 10 benchmarks/photos/astronaut-12mp.jpg
	$(BIN)/lwface-desktop bench --detector yolov5 --weights $(WEIGHTS) --runs 20 benchmarks/photos/astronaut.jpg
	$(BIN)/lwface-desktop bench --detector yolov5 --weights $(WEIGHTS) --img-size 320 --runs 20 benchmarks/photos/astronaut.jpg
	$(BIN)/python benchmarks/yolo_forward.py $(WEIGHTS)

clean: ## remove the virtualenv, caches and build output
	rm -rf $(VENV) build dist .pytest_cache *.egg-info benchmarks/photos
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

screenshot: install ## retake docs/screenshot.png under Xvfb (needs ../shared/tools/screenshot.sh)
	$(BIN)/python benchmarks/photos.py benchmarks/photos >/dev/null
	rm -rf /tmp/lwface-shot && XDG_CONFIG_HOME=/tmp/lwface-shot bash ../shared/tools/screenshot.sh /tmp/lwface-shot.png 6 -- $(BIN)/lwface-desktop benchmarks/photos/astronaut.jpg
	/usr/bin/convert /tmp/lwface-shot.png -crop 1088x680+0+0 +repage -resize 75% -strip docs/screenshot.png
