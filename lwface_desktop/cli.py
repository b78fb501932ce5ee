"""Command line: the GUI by default, `detect` and `bench` for scripts and measurements."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

from lwface_desktop import __version__

COMMANDS = ("gui", "detect", "bench")
DETECTORS = ("cascade",)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lwface-desktop",
        description="Find faces in photos. With no command, opens the app.",
        epilog="Run 'lwface-desktop COMMAND --help' for a command's options.")
    parser.add_argument("--version", action="version", version=f"lwface-desktop {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    gui = commands.add_parser("gui", help="open the app (the default; 'lwface-desktop photo.jpg' works too)")
    gui.add_argument("image", nargs="?", help="a JPEG photo to open at start")

    detect = commands.add_parser("detect", help="find faces in JPEG photos")
    detect.add_argument("--detector", choices=DETECTORS, default="cascade")
    detect.add_argument("--json", action="store_true", help="one JSON object per line per image")
    detect.add_argument("--output", metavar="PATH",
                        help="write the annotated image (a file for one input, a folder for several)")
    detect.add_argument("images", nargs="+", metavar="IMAGE")

    bench = commands.add_parser("bench", help="time decoding and detection; prints one JSON line")
    bench.add_argument("--detector", choices=DETECTORS, default="cascade")
    bench.add_argument("--runs", type=int, default=10, help="timed runs after one warm-up (default 10)")
    bench.add_argument("image", metavar="IMAGE")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in COMMANDS and not argv[0].startswith("-")):
        argv.insert(0, "gui")
    args = build_parser().parse_args(argv)
    try:
        if args.command == "detect":
            return _detect(args)
        if args.command == "bench":
            return _bench(args)
        from lwface_desktop.gui.app import run_gui  # Qt is imported only for the GUI

        return run_gui(args.image)
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # the last line of defence: a message, never a traceback
        if os.environ.get("LWFACE_DEBUG"):
            raise
        print(f"lwface-desktop: unexpected error: {e}", file=sys.stderr)
        return 1


def _make_detector(name: str):
    from lwface_desktop.core.cascade import default_face_cascade

    return default_face_cascade()


def _output_paths(inputs: list[str], output: str | None) -> dict[str, Path]:
    """Where each input's annotated image goes; never onto an input photo."""
    if output is None:
        return {}
    out = Path(output)
    if len(inputs) == 1 and not out.is_dir():
        return {inputs[0]: out}
    if out.exists() and not out.is_dir():
        raise SystemExit(f"lwface-desktop: --output {output} must be a folder when there are several images")
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for image in inputs:
        target = out / f"{Path(image).stem}-faces.jpg"
        n = 2
        while target in paths.values():  # two inputs with one name in different folders
            target = out / f"{Path(image).stem}-faces-{n}.jpg"
            n += 1
        paths[image] = target
    return paths


def _detect(args: argparse.Namespace) -> int:
    from lwface_desktop.core.annotate import annotate
    from lwface_desktop.core.detection import count_text
    from lwface_desktop.core.images import ImageError, open_photo, save_image

    outputs = _output_paths(args.images, args.output)
    inputs = {Path(p).resolve() for p in args.images}
    detector = _make_detector(args.detector)
    failed = False
    for image_path in args.images:
        target = outputs.get(image_path)
        try:
            if target is not None and target.resolve() in inputs:
                raise ImageError(f"will not overwrite the input photo {target.name}; choose another --output")
            start = time.perf_counter()
            # Annotating needs every pixel; counting faces needs only the detector's copy.
            photo = open_photo(image_path, min_side=None if target else detector.work_side)
            decoded = time.perf_counter()
            detections = detector.detect_photo(photo)
            detected = time.perf_counter()
            timing = {"decode": _ms(decoded - start), "detect": _ms(detected - decoded)}
            if target is not None:
                save_image(annotate(photo.pixels, detections), target)
                timing["save"] = _ms(time.perf_counter() - detected)
            timing["total"] = _ms(time.perf_counter() - start)
        except ImageError as e:
            failed = True
            _report_error(args.json, image_path, str(e))
            continue
        if args.json:
            print(json.dumps({"image": image_path, "width": photo.width, "height": photo.height,
                              "detector": args.detector,
                              "detections": [d.to_json() for d in detections],
                              "timing_ms": timing}), flush=True)
        else:
            found = count_text(len(detections), detector.label)
            saved = f", saved {target}" if target is not None else ""
            print(f"{image_path}: {found} in {timing['total']:.0f} ms{saved}", flush=True)
    return 1 if failed else 0


def _report_error(as_json: bool, image_path: str, message: str) -> None:
    if as_json:
        print(json.dumps({"image": image_path, "error": message}), flush=True)
    else:
        print(f"{image_path}: error: {message}", file=sys.stderr, flush=True)


def _bench(args: argparse.Namespace) -> int:
    from lwface_desktop.core.images import ImageError, open_photo

    if args.runs < 1:
        raise SystemExit("lwface-desktop: --runs must be at least 1")
    detector = _make_detector(args.detector)
    decode, detect, total = [], [], []
    try:
        for run in range(args.runs + 1):
            start = time.perf_counter()
            photo = open_photo(args.image, min_side=detector.work_side)  # as `detect` does
            decoded = time.perf_counter()
            detections = detector.detect_photo(photo)
            end = time.perf_counter()
            if run:  # the first run warms caches and is not counted
                decode.append(decoded - start)
                detect.append(end - decoded)
                total.append(end - start)
    except ImageError as e:
        _report_error(True, args.image, str(e))
        return 1
    print(json.dumps({"image": args.image, "detector": args.detector, "runs": args.runs,
                      "width": photo.width, "height": photo.height,
                      "detections": len(detections),
                      "median_ms": {"decode": _ms(statistics.median(decode)),
                                    "detect": _ms(statistics.median(detect)),
                                    "total": _ms(statistics.median(total))}}), flush=True)
    return 0


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)
