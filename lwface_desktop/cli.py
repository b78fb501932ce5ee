"""Command line: the GUI by default; `detect`, `bench` and `weights` for scripts."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import sys
import threading
import time
from pathlib import Path

from lwface_desktop import __version__
from lwface_desktop.core.detectors import KINDS

COMMANDS = ("gui", "detect", "bench", "video", "weights")
DETECTORS = tuple(KINDS)  # cascade, yolov5


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lwface-desktop",
        description="Find faces and objects in photos. With no command, opens the app.",
        epilog="Run 'lwface-desktop COMMAND --help' for a command's options.")
    parser.add_argument("--version", action="version", version=f"lwface-desktop {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    gui = commands.add_parser("gui", help="open the app (the default; 'lwface-desktop photo.jpg' works too)")
    gui.add_argument("image", nargs="?", help="a JPEG photo to open at start")
    gui.add_argument("--weights", metavar="PATH", help="YOLOv5 model file for the Objects detector")
    gui.add_argument("--self-test", action="store_true",
                     help="check the model, the face cascade and the settings folder, then exit")
    gui.add_argument("--source", metavar="SOURCE",
                     help="open the Live camera tab and start it: a camera index (0), a video file or a URL")

    detect = commands.add_parser("detect", help="find faces or objects in JPEG photos")
    _detector_options(detect)
    detect.add_argument("--json", action="store_true", help="one JSON object per line per image")
    detect.add_argument("--output", metavar="PATH",
                        help="write the annotated image (a file for one input, a folder for several; "
                             "in a folder, names already taken are never reused)")
    detect.add_argument("--overwrite", action="store_true",
                        help="replace an existing --output file (never an input)")
    detect.add_argument("images", nargs="+", metavar="IMAGE")

    bench = commands.add_parser("bench", help="time decoding and detection; prints one JSON line")
    _detector_options(bench)
    bench.add_argument("--runs", type=int, default=10, help="timed runs after one warm-up (default 10)")
    bench.add_argument("image", metavar="IMAGE")

    video = commands.add_parser("video", help="detect on every frame of a camera, video file or stream")
    _detector_options(video, yolo_only=True)
    video.add_argument("source", metavar="SOURCE", help="a camera index (0), a video file or a URL")
    video.add_argument("--output", metavar="OUT.mp4", help="annotated video (.mp4, .avi, .mkv, .webm)")
    video.add_argument("--jsonl", metavar="DETS.jsonl",
                       help='one JSON line per frame: {"frame": i, "detections": [...]}')
    video.add_argument("--overwrite", action="store_true",
                       help="replace existing --output and --jsonl files (never the input)")

    weights = commands.add_parser("weights", help="list or download YOLOv5 model files")
    actions = weights.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", help="show which model files are available, and where")
    download = actions.add_parser("download", help="download an official model (verified by SHA-256)")
    download.add_argument("model", nargs="?", default="yolov5n", choices=("yolov5n", "yolov5s", "yolov5m"))
    download.add_argument("--to", metavar="FOLDER", help="where to save it (default: the cache folder)")
    return parser


def _detector_options(parser: argparse.ArgumentParser, yolo_only: bool = False) -> None:
    if yolo_only:
        parser.set_defaults(detector="yolov5")
    else:
        parser.add_argument("--detector", choices=DETECTORS, default="cascade",
                            help="cascade: faces (default); yolov5: people and 79 other object classes")
    yolo = parser.add_argument_group("yolov5 options")
    yolo.add_argument("--weights", metavar="PATH", help="model file (default: see `weights list`)")
    yolo.add_argument("--img-size", type=int, default=640, help="network input size, a multiple of 32")
    yolo.add_argument("--conf", type=float, default=0.25, help="minimum score (default 0.25)")
    yolo.add_argument("--iou", type=float, default=0.45, help="NMS overlap threshold (default 0.45)")
    yolo.add_argument("--max-det", type=int, default=300, help="at most this many boxes per image")
    yolo.add_argument("--classes", metavar="NAMES", help="only these classes, e.g. person,car")
    # Photos default to fp32, which gives the official detections; video to bf16 where faster.
    yolo.add_argument("--precision", choices=("auto", "fp32", "bf16"), default="auto" if yolo_only else "fp32",
                      help="auto: bf16 where this CPU runs it faster, else fp32 (default: "
                           f"{'auto' if yolo_only else 'fp32, which gives the official detections'})")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in (*COMMANDS, "-h", "--help", "--version"):
        argv.insert(0, "gui")  # `lwface-desktop [--weights W] [photo.jpg]` opens the app
    parser = build_parser()
    args = parser.parse_args(argv)
    from lwface_desktop.core.errors import UserError

    if args.command in ("detect", "bench", "video"):
        _tolerant_stdout()
    try:
        if args.command == "detect":
            return _detect(args, _make_detector(args, parser))
        if args.command == "bench":
            return _bench(args, _make_detector(args, parser))
        if args.command == "video":
            _check_video_paths(args)  # before the model loads: a refusal is instant
            return _video(args, _make_detector(args, parser))
        if args.command == "weights":
            return _weights(args)
        if args.self_test:
            return _self_test(args.weights)
        from lwface_desktop.gui.app import run_gui  # Qt is imported only for the GUI

        return run_gui(args.image, args.weights, args.source)
    except UserError as e:
        print(f"lwface-desktop: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # the last line of defence: a message, never a traceback
        if os.environ.get("LWFACE_DEBUG"):
            raise
        print(f"lwface-desktop: unexpected error: {e}", file=sys.stderr)
        return 1


def _tolerant_stdout() -> None:
    """File names that are not valid text (bytes from another system) print as escapes
    instead of failing the whole command."""
    reconfigure = getattr(sys.stdout, "reconfigure", None)  # absent if stdout was replaced
    if reconfigure is not None:
        with contextlib.suppress(ValueError):
            reconfigure(errors="backslashreplace")


def _make_detector(args: argparse.Namespace, parser: argparse.ArgumentParser):
    if args.detector == "cascade":
        from lwface_desktop.core.cascade import default_face_cascade

        return default_face_cascade()
    from lwface_desktop.core.weights import resolve_weights
    from lwface_desktop.core.yolo.detector import MAX_DETECTIONS, MAX_IMG_SIZE, MIN_CONF, YoloDetector

    if not 32 <= args.img_size <= MAX_IMG_SIZE or args.img_size % 32:
        parser.error(f"--img-size must be a multiple of 32 from 32 to {MAX_IMG_SIZE}, got {args.img_size}")
    if not MIN_CONF <= args.conf <= 1:
        parser.error(f"--conf must be between {MIN_CONF} and 1, got {args.conf}")
    if not 0 <= args.iou <= 1:
        parser.error(f"--iou must be between 0 and 1, got {args.iou}")
    if not 1 <= args.max_det <= MAX_DETECTIONS:
        parser.error(f"--max-det must be between 1 and {MAX_DETECTIONS}, got {args.max_det}")
    try:
        detector = YoloDetector(resolve_weights(args.weights), img_size=args.img_size, conf=args.conf,
                                iou=args.iou, max_detections=args.max_det, precision=args.precision)
    except ValueError as e:  # e.g. 320 for a P6 model, whose sizes are multiples of 64
        parser.error(f"--img-size: {e}")
    if args.classes:
        try:
            detector.classes = detector.class_ids([n.strip() for n in args.classes.split(",") if n.strip()])
        except ValueError as e:
            parser.error(f"--classes: {e}")
    return detector


class _Outputs:
    """Where each input's annotated image goes: one file for one input, else a folder in which
    each image gets a name not yet taken (core.images.unused_path), so nothing is overwritten."""

    def __init__(self, inputs: list[str], output: str | None, suffix: str, overwrite: bool):
        self.inputs, self.suffix, self.overwrite = inputs, suffix, overwrite
        self.file: Path | None = None
        self.folder: Path | None = None
        if output is None:
            return
        out = Path(output)
        if len(inputs) == 1 and not out.is_dir() and not output.endswith(("/", os.sep)):
            self.file = out
        elif out.exists() and not out.is_dir():
            raise SystemExit(f"lwface-desktop: --output {output} must be a folder when there are several images")
        else:
            self.folder = out

    @property
    def wanted(self) -> bool:
        return self.file is not None or self.folder is not None

    def check(self) -> None:
        """OutputError, before any work, if the output file is an input or exists (without
        --overwrite), or the output folder cannot be made."""
        from lwface_desktop.core.outputs import OutputError, check_outputs

        if self.file is not None:
            check_outputs([self.file], self.inputs)
            if not self.overwrite and os.path.lexists(self.file):
                raise OutputError(f"{self.file} already exists; add --overwrite to replace it, "
                                  "or choose another name.")
        elif self.folder is not None:
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise OutputError(f"The output folder {self.folder} cannot be made: {e.strerror or e}.") from None

    def save(self, image_path: str, annotated) -> Path:
        from lwface_desktop.core.images import save_image, unused_path
        from lwface_desktop.core.outputs import check_outputs

        if self.file is not None:
            save_image(annotated, self.file, overwrite=self.overwrite)
            return self.file
        assert self.folder is not None  # wanted: a file or a folder
        target = unused_path(self.folder, f"{Path(image_path).stem}-{self.suffix}", ".jpg")
        check_outputs([target], self.inputs)
        save_image(annotated, target, overwrite=False)  # refused if the name was taken meanwhile
        return target


def _detect(args: argparse.Namespace, detector) -> int:
    from lwface_desktop.core.detection import count_text
    from lwface_desktop.core.errors import UserError
    from lwface_desktop.core.pipeline import analyse_photo

    outputs = _Outputs(args.images, args.output, "faces" if args.detector == "cascade" else "objects",
                       args.overwrite)
    failed = False
    for image_path in args.images:
        target = None
        try:
            outputs.check()
            result = analyse_photo(image_path, detector, view_max_side=None, draw=outputs.wanted)
            timing = {"decode": _ms(result.timing["decode"]), "detect": _ms(result.timing["detect"])}
            if outputs.wanted:
                start = time.perf_counter()
                target = outputs.save(image_path, result.annotated)
                timing["save"] = _ms(result.timing["draw"] + time.perf_counter() - start)
            timing["total"] = round(sum(timing.values()), 1)
        except UserError as e:
            failed = True
            _report_error(args.json, image_path, str(e))
            continue
        except MemoryError:
            failed = True
            _report_error(args.json, image_path, f"{Path(image_path).name} needs more memory than is free.")
            continue
        except Exception as e:  # a bug of ours: said for this image, and the others go on
            if os.environ.get("LWFACE_DEBUG"):
                raise
            failed = True
            _report_error(args.json, image_path, f"unexpected error: {e}")
            continue
        detections = result.detections
        if args.json:
            print(json.dumps({"image": image_path, "width": result.width, "height": result.height,
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


def _bench(args: argparse.Namespace, detector) -> int:
    """Median milliseconds per stage over --runs runs, as `detect` does them."""
    from lwface_desktop.core.images import ImageError, open_photo

    if args.runs < 1:
        raise SystemExit("lwface-desktop: --runs must be at least 1")
    stages: dict[str, list[float]] = {}
    try:
        for run in range(args.runs + 1):
            start = time.perf_counter()
            photo = open_photo(args.image, min_side=detector.decode_side)
            decoded = time.perf_counter()
            if args.detector == "yolov5":
                detections, timing = detector.detect_timed(photo.pixels)
            else:
                detections, timing = detector.detect(photo.pixels), {}
            end = time.perf_counter()
            if run:  # the first run warms caches and is not counted
                for stage, seconds in {"decode": decoded - start, **timing, "detect": end - decoded,
                                       "total": end - start}.items():
                    stages.setdefault(stage, []).append(seconds)
    except ImageError as e:
        _report_error(True, args.image, str(e))
        return 1
    result = {"image": args.image, "detector": args.detector, "runs": args.runs,
              "width": photo.width, "height": photo.height, "detections": len(detections),
              "median_ms": {stage: _ms(statistics.median(times)) for stage, times in stages.items()}}
    if args.detector == "yolov5":
        result.update(img_size=detector.img_size, precision=detector.precision,
                      threads=_torch_threads(), weights=str(detector.weights))
    print(json.dumps(result), flush=True)
    return 0


def _video(args: argparse.Namespace, detector) -> int:
    """Every frame through the detector; annotated video and/or JSON lines out; a summary line.

    Both outputs are written under temporary names and renamed into place when complete.
    SIGTERM or Ctrl+C stops it cleanly: the frames so far are finished into playable files,
    the summary is printed, and the exit status is 128 + the signal number. A second
    signal stops at once and leaves no output at all.
    """
    from lwface_desktop.core.outputs import OutputError, writing
    from lwface_desktop.core.pipeline import run_video
    from lwface_desktop.core.sources import FrameSource

    _check_video_paths(args)  # again: a file may have appeared while the model loaded
    stop = threading.Event()
    signals: list[int] = []  # the signals received, in order
    try:
        with _stopping_on_signals(stop, signals), contextlib.ExitStack() as closing:
            lines = None
            if args.jsonl:  # before the camera is taken, so a bad path leaves nothing open
                lines = closing.enter_context(open(closing.enter_context(writing(args.jsonl, args.overwrite)), "w"))
            frames = FrameSource(args.source)  # run_video releases it
            total = frames.frame_count
            bar = _progress_bar(frames.name)
            start = time.perf_counter()

            def on_frame(index: int, detections) -> None:
                if lines:
                    try:
                        lines.write(json.dumps({"frame": index, "detections": [d.to_json() for d in detections]})
                                    + "\n")
                    except OSError as e:  # said as the JSON lines' problem, not the video's
                        raise OutputError(f"Could not write {args.jsonl}: {e.strerror or e}.") from None
                if index % 5 == 0 or index + 1 == total:
                    bar(index + 1, total, f"frames ({(index + 1) / (time.perf_counter() - start):.1f} fps)")

            stats = run_video(frames, detector, args.output, on_frame, stop=stop, overwrite=args.overwrite)
            if stats.frames == 0:
                raise _StoppedBeforeAnyFrame(stats)  # no empty JSON lines file left behind
    except _StoppedBeforeAnyFrame as e:
        stats = e.stats
    except KeyboardInterrupt:  # a second signal: stopped at once, nothing written
        print(file=sys.stderr)
        return 128 + signals[0] if signals else 130
    print(file=sys.stderr)
    overhead = stats.seconds / stats.detector_seconds - 1 if stats.detector_seconds else 0.0
    written = stats.frames > 0
    summary = {"source": args.source, "frames": stats.frames, "seconds": round(stats.seconds, 3),
               "fps": round(stats.fps, 2), "img_size": detector.img_size, "precision": detector.precision,
               "detector_ms_per_frame": _ms(stats.detector_seconds / max(stats.frames, 1)),
               "pipeline_overhead_pct": round(overhead * 100, 1),
               "output": args.output if written else None, "jsonl": args.jsonl if written else None}
    if signals:
        summary["stopped_by"] = signal.Signals(signals[0]).name
    print(json.dumps(summary), flush=True)
    return 128 + signals[0] if signals else 0


def _check_video_paths(args: argparse.Namespace) -> None:
    """SourceError if a source file is missing or not a regular file; OutputError if --output
    or --jsonl is the source video (by identity: a hard link counts), both name one file, or
    one exists and --overwrite is not given."""
    from lwface_desktop.core.outputs import OutputError, check_outputs
    from lwface_desktop.core.sources import check_video_file, parse_source

    source = parse_source(args.source)
    inputs = [source] if isinstance(source, str) and "://" not in source else []
    for path in inputs:
        check_video_file(path)
    check_outputs([args.output, args.jsonl], inputs)
    for output in (args.output, args.jsonl):
        if output and not args.overwrite and os.path.lexists(output):
            raise OutputError(f"{output} already exists; add --overwrite to replace it, or choose another name.")


class _StoppedBeforeAnyFrame(Exception):
    def __init__(self, stats):
        super().__init__("stopped before the first frame")
        self.stats = stats


@contextlib.contextmanager
def _stopping_on_signals(stop: threading.Event, received: list[int]):
    """While inside: SIGTERM and SIGINT set stop (a second one raises KeyboardInterrupt);
    received lists them. Only the main thread can install handlers; elsewhere nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum, _frame) -> None:
        received.append(signum)
        if len(received) > 1:
            raise KeyboardInterrupt
        stop.set()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _self_test(weights: str | None) -> int:
    from lwface_desktop.core.selftest import run_checks

    results = run_checks(weights)
    for passed, sentence in results:
        print(f"{'ok  ' if passed else 'FAIL'} {sentence}")
    failed = sum(not passed for passed, _ in results)
    print("All checks passed: lwface-desktop is ready." if not failed else
          f"{failed} check{'s' if failed > 1 else ''} failed: see above.")
    return 1 if failed else 0


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def _weights(args: argparse.Namespace) -> int:
    from lwface_desktop.core import weights

    if args.action == "list":
        for where, path in weights.candidates():
            state = "found" if path.is_file() else "missing"
            print(f"{where:15} {state:8} {path}")
        print(f"{'downloadable':15} {'':8} {', '.join(weights.OFFICIAL)} "
              "(lwface-desktop weights download NAME)")
        return 0
    path = weights.download(args.model, args.to, progress=_progress_bar(args.model))
    print(f"\nSaved {path} (SHA-256 verified)")
    return 0


def _progress_bar(label: str):
    """show(done, total, unit): a one-line bar on stderr, redrawn in place."""
    def show(done: int, total: int, unit: str = "") -> None:
        amount = f"{done}/{total} {unit}" if unit else f"{done / 1e6:.1f}/{total / 1e6:.1f} MB"
        if not total:
            amount = f"{done} {unit}" if unit else f"{done / 1e6:.1f} MB"
        filled = done * 30 // total if total else 0
        bar = f" [{'#' * filled}{'.' * (30 - filled)}]" if total else ""
        print(f"\r{label}{bar} {amount}", end="", file=sys.stderr, flush=True)
    return show


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)
