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
VERSION := $(shell sed -n 's/^__version__ = "\(.*\)"/\1/p' lwface_desktop/__init__.py)
ARCHIVE := dist/lwface-desktop-$(VERSION)-linux-x86_64.tar.gz
DEB := dist/lwface-desktop_$(VERSION)_amd64.deb
PACKAGE_STAMP := $(VENV)/.installed-pyinstaller

.PHONY: help install system-deps run test lint bench screenshot weights package deb package-test clean

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

lint: install ## ruff on everything, mypy on core/
	$(BIN)/ruff check lwface_desktop tests benchmarks
	$(BIN)/mypy

bench: install ## the README's figures: faces on a 12-MP photo, YOLOv5n at 640 and 320 against the official way, threads, parity, GUI stalls
	$(BIN)/python benchmarks/photos.py benchmarks/photos >/dev/null
	$(BIN)/python benchmarks/gallery_baseline.py benchmarks/photos/astronaut-12mp.jpg 3
	$(BIN)/lwface-desktop bench --detector cascade --runs 10 benchmarks/photos/astronaut-12mp.jpg
	$(BIN)/lwface-desktop bench --detector yunet --runs 10 benchmarks/photos/astronaut-12mp.jpg
	$(BIN)/lwface-desktop bench --detector yunet --runs 20 benchmarks/photos/astronaut-vga.jpg
	$(BIN)/lwface-desktop bench --detector yolov5 --weights $(WEIGHTS) --runs 20 benchmarks/photos/astronaut.jpg
	$(BIN)/lwface-desktop bench --detector yolov5 --weights $(WEIGHTS) --img-size 320 --runs 20 benchmarks/photos/astronaut.jpg
	$(BIN)/lwface-desktop bench --detector yolov5 --weights $(WEIGHTS) --precision bf16 --runs 20 benchmarks/photos/astronaut.jpg
	$(BIN)/lwface-desktop bench --detector yolov5 --weights $(WEIGHTS) --precision bf16 --img-size 320 --runs 20 benchmarks/photos/astronaut.jpg
	$(BIN)/python -m benchmarks.yolo_speed $(WEIGHTS) benchmarks/photos/astronaut-12mp.jpg
	$(BIN)/python -m benchmarks.threads $(WEIGHTS)
	$(BIN)/python -m benchmarks.video_overhead $(WEIGHTS) 320 640
	$(BIN)/python -m benchmarks.photo_parity $(WEIGHTS)
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m benchmarks.gui_stall $(WEIGHTS)

weights: install ## put the YOLOv5n model into resources/models/ (from WEIGHTS=path, else download)
	@mkdir -p resources/models
	@if [ -f "$(WEIGHTS)" ]; then cp "$(WEIGHTS)" resources/models/yolov5n.pt; \
	elif [ ! -f resources/models/yolov5n.pt ]; then $(BIN)/lwface-desktop weights download yolov5n --to resources/models \
		|| { echo "No model to bake in: run make package WEIGHTS=path/to/yolov5n.pt" >&2; exit 1; }; fi
	@$(BIN)/python -c 'import sys; from lwface_desktop.core import weights as w; \
	ok = w.sha256(w.resource_path("models", "yolov5n.pt")) == w.OFFICIAL["yolov5n"]; \
	sys.exit(0 if ok else "resources/models/yolov5n.pt is not the official yolov5n.pt (SHA-256 mismatch)")'
	@echo "resources/models/yolov5n.pt: official yolov5n, SHA-256 verified"

$(PACKAGE_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[package]'
	touch $@

package: $(PACKAGE_STAMP) weights ## build dist/lwface-desktop/ and its .tar.gz with PyInstaller (build.spec)
	rm -rf build/lwface-desktop dist/lwface-desktop $(ARCHIVE)
	$(BIN)/pyinstaller --noconfirm --log-level WARN build.spec
	cp resources/lwface-desktop.desktop packaging/install.sh dist/lwface-desktop/
	tar -C dist -czf $(ARCHIVE) lwface-desktop
	@du -sh dist/lwface-desktop $(ARCHIVE)

deb: ## build dist/lwface-desktop_VERSION_amd64.deb from dist/lwface-desktop/ (packaging/deb/)
	@[ -x dist/lwface-desktop/lwface-desktop ] || $(MAKE) package
	@$(MAKE) --no-print-directory $(DEB)

# Rebuilt when `make package` has remade the folder, or when the packaging files change.
$(DEB): dist/lwface-desktop packaging/deb/build.sh packaging/deb/control.in packaging/deb/copyright.in \
		resources/lwface-desktop.desktop resources/icons/lwface-desktop.png resources/models/LICENSE-yunet.txt
	bash packaging/deb/build.sh dist/lwface-desktop $(VERSION) $@

package-test: ## smoke-test the app folder, then install the .deb with apt, test it, remove it (root; builds what is missing)
	@[ -x dist/lwface-desktop/lwface-desktop ] || $(MAKE) package
	$(BIN)/python benchmarks/photos.py benchmarks/photos >/dev/null
	bash packaging/smoke_test.sh dist/lwface-desktop benchmarks/photos
	@$(MAKE) --no-print-directory deb
	bash packaging/deb/test.sh $(DEB) benchmarks/photos

clean: ## remove the virtualenv, caches and build output
	rm -rf $(VENV) build dist .pytest_cache *.egg-info benchmarks/photos
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

screenshot: install ## retake the README's screenshots (docs/*.png) of the real window under Xvfb (needs ../shared)
	@command -v xvfb-run >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends xvfb xauth >/dev/null)
	rm -rf /tmp/lwface-shot && mkdir -p /tmp/lwface-shot
	env -u LWFACE_WEIGHTS XDG_CONFIG_HOME=/tmp/lwface-shot/config XDG_CACHE_HOME=/tmp/lwface-shot/cache \
	  xvfb-run -a -s "-screen 0 1280x800x24 -dpi 96" $(BIN)/python docs/screenshots.py ../shared docs
	rm -rf /tmp/lwface-shot && mkdir -p /tmp/lwface-shot
	env -u LWFACE_WEIGHTS XDG_CONFIG_HOME=/tmp/lwface-shot/config XDG_CACHE_HOME=/tmp/lwface-shot/cache \
	  xvfb-run -a -s "-screen 0 1280x800x24 -dpi 96" $(BIN)/python docs/screenshots.py ../shared docs --no-model
