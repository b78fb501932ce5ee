"""`video`: every frame of a camera, file or stream through the detector, into a video and JSON lines;
SIGTERM/Ctrl+C end it with a complete, playable file."""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
import time

from lwface_desktop.terminal import OVERWRITE_HINT, ms, progress_bar


def video(args: argparse.Namespace, detector) -> int:
    """Every frame through the detector; annotated video and/or JSON lines out; a summary line.

    Both outputs are written under temporary names and renamed into place when complete.
    SIGTERM or Ctrl+C stops it cleanly: the frames so far are finished into playable files,
    the summary is printed, and the exit status is 128 + the signal number. A second
    signal stops at once and leaves no output at all.
    """
    from lwface_desktop.core.outputs import OutputError, writing
    from lwface_desktop.core.pipeline import run_video
    from lwface_desktop.core.sources import FrameSource

    check_video_paths(args)  # again: a file may have appeared while the model loaded
    stop = threading.Event()
    signals: list[int] = []  # the signals received, in order
    try:
        with _stopping_on_signals(stop, signals), contextlib.ExitStack() as closing:
            lines = None
            if args.jsonl:  # before the camera is taken, so a bad path leaves nothing open
                lines = closing.enter_context(open(closing.enter_context(writing(args.jsonl, args.overwrite)), "w"))
            frames = FrameSource(args.source)  # run_video releases it
            total = frames.frame_count
            bar = progress_bar(frames.name)
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

            stats = run_video(frames, detector, args.output, on_frame, stop=stop, overwrite=args.overwrite,
                              hide=args.anonymize)
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
    # img_size and precision are YOLOv5's (faces+people: of its people part); null for faces alone.
    summary = {"source": args.source, "detector": args.detector, "frames": stats.frames,
               "seconds": round(stats.seconds, 3), "fps": round(stats.fps, 2),
               "img_size": getattr(detector, "img_size", None), "precision": getattr(detector, "precision", None),
               "detector_ms_per_frame": ms(stats.detector_seconds / max(stats.frames, 1)),
               "pipeline_overhead_pct": round(overhead * 100, 1),
               "output": args.output if written else None, "jsonl": args.jsonl if written else None}
    if signals:
        summary["stopped_by"] = signal.Signals(signals[0]).name
    print(json.dumps(summary), flush=True)
    return 128 + signals[0] if signals else 0


def check_video_paths(args: argparse.Namespace) -> None:
    """SourceError if a source file is missing or not a regular file; OutputError if --output
    or --jsonl is the source video (by identity: a hard link counts), both name one file, or
    one exists and --overwrite is not given."""
    from lwface_desktop.core.outputs import check_outputs, refuse_existing
    from lwface_desktop.core.sources import check_video_file, parse_source

    source = parse_source(args.source)
    inputs = [source] if isinstance(source, str) and "://" not in source else []
    for path in inputs:
        check_video_file(path)
    check_outputs([args.output, args.jsonl], inputs)
    for output in (args.output, args.jsonl):
        if output and not args.overwrite:
            refuse_existing(output, OVERWRITE_HINT)


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
