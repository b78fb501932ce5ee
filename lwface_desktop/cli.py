"""Command line: the GUI by default; `detect`, `bench` and `weights` for scripts."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys

from lwface_desktop import __version__
from lwface_desktop.core.detection import Detection, Detector
from lwface_desktop.core.detectors import FACE_KINDS, KINDS, LIVE_KINDS
from lwface_desktop.terminal import progress_bar

COMMANDS = ("gui", "detect", "bench", "video", "weights")
# core.anonymise.MODES, written out so that the parser does not load OpenCV (a test keeps them equal).
HIDE_MODES = ("off", "blur", "pixelate", "box")


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
    _anonymize_option(detect, "the images written by --output; the text or JSON still gives every face's box")
    detect.add_argument("--csv", metavar="DETS.csv",
                        help="every detection of every image, one row each: photo, label, score, x1, y1, x2, y2, "
                             "width, height, detector, min_score, output (the file --output wrote)")
    detect.add_argument("--jsonl", metavar="DETS.jsonl", help="the same rows as JSON lines")
    detect.add_argument("--overwrite", action="store_true",
                        help="replace existing --output, --csv and --jsonl files (never an input)")
    detect.add_argument("images", nargs="+", metavar="IMAGE",
                        help="JPEG photos, or folders: their JPEGs are found in them and their subfolders")

    bench = commands.add_parser("bench", help="time decoding and detection; prints one JSON line")
    _detector_options(bench)
    bench.add_argument("--live", action="store_true",
                       help="time YuNet's light setting for video frames (the Live camera tab's and `video`'s)")
    bench.add_argument("--runs", type=int, default=10, help="timed runs after one warm-up (default 10)")
    bench.add_argument("image", metavar="IMAGE")

    video = commands.add_parser("video", help="detect on every frame of a camera, video file or stream")
    _detector_options(video, live=True)
    video.add_argument("source", metavar="SOURCE", help="a camera index (0), a video file or a URL")
    video.add_argument("--output", metavar="OUT.mp4", help="annotated video (.mp4, .avi, .mkv, .webm)")
    video.add_argument("--jsonl", metavar="DETS.jsonl",
                       help='one JSON line per frame: {"frame": i, "detections": [...]}')
    _anonymize_option(video, "the video written by --output; a face missed for a few frames stays hidden "
                             "where it was last seen; the JSON lines give the faces found in each frame")
    video.add_argument("--overwrite", action="store_true",
                       help="replace existing --output and --jsonl files (never the input)")

    weights = commands.add_parser("weights", help="list or download YOLOv5 model files")
    actions = weights.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", help="show which model files are available, and where")
    download = actions.add_parser("download", help="download an official model (verified by SHA-256)")
    download.add_argument("model", nargs="?", default="yolov5n", choices=("yolov5n", "yolov5s", "yolov5m"))
    download.add_argument("--to", metavar="FOLDER", help="where to save it (default: the cache folder)")
    return parser


def _detector_options(parser: argparse.ArgumentParser, live: bool = False) -> None:
    """--detector with its face and YOLOv5 options; live: the choices of `video` (LIVE_KINDS)."""
    if live:
        parser.add_argument("--detector", choices=tuple(LIVE_KINDS), default="yolov5",
                            help="yolov5: people and 79 other object classes (default); yunet: faces, "
                                 "with YuNet's light setting for video; faces+people: faces and people (YOLOv5's "
                                 "person class) at once")
    else:
        parser.add_argument("--detector", choices=tuple(KINDS), default="yunet",
                            help="yunet: faces with OpenCV's YuNet (default); cascade: faces, the classic method; "
                                 "yolov5: people and 79 other object classes")
    faces = parser.add_argument_group("face options")
    faces.add_argument("--min-score", type=float, metavar="S",
                       help="keep faces scoring at least S, from 0 to 1 (default: the detector's own, measured "
                            "threshold); lower finds more faces and more false ones")
    yolo = parser.add_argument_group("yolov5 options" + (" (also for faces+people's people)" if live else ""))
    yolo.add_argument("--weights", metavar="PATH", help="model file (default: see `weights list`)")
    yolo.add_argument("--img-size", type=int, default=640, help="network input size, a multiple of 32")
    yolo.add_argument("--conf", type=float, default=0.25, help="minimum score (default 0.25)")
    yolo.add_argument("--iou", type=float, default=0.45, help="NMS overlap threshold (default 0.45)")
    yolo.add_argument("--max-det", type=int, default=300, help="at most this many boxes per image")
    yolo.add_argument("--classes", metavar="NAMES", help="only these classes, e.g. person,car")
    # Photos default to fp32, which gives the official detections; video to bf16 where faster.
    yolo.add_argument("--precision", choices=("auto", "fp32", "bf16"), default="auto" if live else "fp32",
                      help="auto: bf16 where this CPU has native bf16 (AMX, AVX512-BF16), else fp32 (default: "
                           f"{'auto' if live else 'fp32, which gives the official detections'})")


def _anonymize_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--anonymize", "--anonymise", dest="anonymize", choices=HIDE_MODES, default="off",
                        metavar="MODE", help=f"blur, pixelate or box (a solid box): hide every face in {what} "
                                             "(default off)")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in (*COMMANDS, "-h", "--help", "--version"):
        argv.insert(0, "gui")  # `lwface-desktop [--weights W] [photo.jpg]` opens the app
    parser = build_parser()
    args = parser.parse_args(argv)
    from lwface_desktop.core.errors import UserError

    if args.command in ("detect", "bench", "video"):
        _check_detector_options(args, parser)
        _tolerant_stdout()
    if args.command in ("detect", "bench", "video", "gui"):
        from lwface_desktop.core import allocator, cpu_budget

        cpu_budget.start()  # OpenCV: physical cores, not every logical CPU; set once
        allocator.keep_freed_memory()
    try:
        if args.command == "detect":
            from lwface_desktop.commands_photos import detect

            return detect(args, _make_detector(args, parser))
        if args.command == "bench":
            from lwface_desktop.commands_photos import bench

            return bench(args, _make_detector(args, parser))
        if args.command == "video":
            from lwface_desktop.commands_video import check_video_paths, video

            check_video_paths(args)  # before the model loads: a refusal is instant
            return video(args, _make_detector(args, parser))
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


def _check_detector_options(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """Usage errors for options that do not fit together, before any model or file is opened."""
    finds_faces = args.detector != "yolov5"
    if args.min_score is not None:
        if not finds_faces:
            parser.error("--min-score is for faces; yolov5's minimum score is --conf")
        if not 0 < args.min_score <= 1:
            parser.error(f"--min-score must be above 0 and at most 1, got {args.min_score}")
        if args.detector == "cascade" and args.min_score < CASCADE_LOWEST_SCORE:
            parser.error(f"--min-score: the cascade scores every face it reports at least {CASCADE_LOWEST_SCORE} "
                         f"(five windows agree), so {args.min_score} would change nothing; "
                         "for more faces use --detector yunet")
    if args.detector == "faces+people" and args.classes:
        parser.error("--classes is for --detector yolov5; faces+people finds faces and people only")
    hide = getattr(args, "anonymize", "off")
    if hide != "off" and not args.output:
        parser.error(f"--anonymize {hide} hides faces in the {'video' if args.command == 'video' else 'images'} "
                     "written by --output, and there is no --output; add --output PATH")
    if hide != "off" and not finds_faces:
        parser.error("--anonymize hides faces, and yolov5 finds no faces; use --detector "
                     f"{'yunet or faces+people' if args.command == 'video' else 'yunet or cascade'}")


CASCADE_LOWEST_SCORE = 0.5  # core.cascade scores a face hits / (hits + MIN_HITS), with hits >= MIN_HITS


def _make_detector(args: argparse.Namespace, parser: argparse.ArgumentParser):
    """The detector the options ask for; video and `bench --live` use YuNet's live setting."""
    live = args.command == "video" or getattr(args, "live", False)
    if args.detector in FACE_KINDS:
        return _face_detector(args.detector, args.min_score, live)
    objects = _yolov5(args, parser)
    if args.detector == "yolov5":
        return objects
    from lwface_desktop.core.detectors import faces_and_people

    return faces_and_people(_face_detector("yunet", args.min_score, live), objects)


def _face_detector(kind: str, min_score: float | None, live: bool):
    from lwface_desktop.core.detectors import Detectors

    detector = Detectors().get(kind, live=live)
    if min_score is None:
        return detector
    if kind == "yunet":  # YuNet applies it to the score of its fused boxes
        return detector.with_options(min_score=min_score)
    return _AtLeast(detector, min_score)


class _AtLeast(Detector):
    """The detections of a detector whose threshold is fixed (the cascade) that score at least min_score."""

    def __init__(self, detector: Detector, min_score: float):
        self.detector, self.min_score = detector, min_score
        self.label, self.kind, self.decode_side = detector.label, detector.kind, detector.decode_side

    def detect(self, image) -> list[Detection]:
        return self._kept(self.detector.detect(image))

    def detect_photo(self, photo) -> list[Detection]:
        return self._kept(self.detector.detect_photo(photo))

    def lowest_score(self) -> float:
        return self.min_score

    def _kept(self, detections: list[Detection]) -> list[Detection]:
        return [d for d in detections if d.score >= self.min_score]


def _yolov5(args: argparse.Namespace, parser: argparse.ArgumentParser):
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


def _self_test(weights: str | None) -> int:
    from lwface_desktop.core.selftest import run_checks, summary

    results = run_checks(weights)
    for passed, sentence in results:
        print(f"{'ok  ' if passed else 'FAIL'} {sentence}")
    print(summary(results))
    return 0 if all(passed for passed, _ in results) else 1


def _weights(args: argparse.Namespace) -> int:
    from lwface_desktop.core import weights

    if args.action == "list":
        for where, path in weights.candidates():
            state = "found" if path.is_file() else "missing"
            print(f"{where:15} {state:8} {path}")
        print(f"{'downloadable':15} {'':8} {', '.join(weights.OFFICIAL)} "
              "(lwface-desktop weights download NAME)")
        return 0
    path = weights.download(args.model, args.to, progress=progress_bar(args.model))
    print(f"\nSaved {path} (SHA-256 verified)")
    return 0

