"""`detect` and `bench`: photos through core.pipeline.analyse_photo, results as text or JSON."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from lwface_desktop.terminal import OVERWRITE_HINT, ms, report_error, report_skipped


class _Outputs:
    """Where each input's annotated image goes: one file for one input, else a folder in which
    each image gets a new name as File › Export all… names it (core.export.exported_name:
    photo-faces.jpg, photo-blurred.jpg, -2 if taken), so nothing is overwritten."""

    def __init__(self, inputs: list[str], output: str | None, label: str, hide: str, overwrite: bool,
                 folders: bool = False):
        self.inputs, self.label, self.hide, self.overwrite = inputs, label, hide, overwrite
        self.file: Path | None = None
        self.folder: Path | None = None
        if output is None:
            return
        out = Path(output)
        if len(inputs) == 1 and not folders and not out.is_dir() and not output.endswith(("/", os.sep)):
            self.file = out
        elif out.exists() and not out.is_dir():
            raise SystemExit(f"lwface-desktop: --output {output} must be a folder when there are several images "
                             "or a folder of them")
        else:
            self.folder = out

    @property
    def wanted(self) -> bool:
        return self.file is not None or self.folder is not None

    def check(self) -> None:
        """OutputError, before any work, if the output file is an input or exists (without
        --overwrite), or the output folder cannot be made."""
        from lwface_desktop.core.outputs import OutputError, check_outputs, refuse_existing

        if self.file is not None:
            check_outputs([self.file], self.inputs)
            if not self.overwrite:
                refuse_existing(self.file, OVERWRITE_HINT)
        elif self.folder is not None:
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise OutputError(f"The output folder {self.folder} cannot be made: {e.strerror or e}.") from None

    def save(self, image_path: str, annotated, detections) -> Path:
        from lwface_desktop.core.export import exported_name
        from lwface_desktop.core.images import save_image, save_new

        if self.file is not None:
            save_image(annotated, self.file, overwrite=self.overwrite)
            return self.file
        assert self.folder is not None  # wanted: a file or a folder
        # A new name is no input: every input exists, and save_new never takes a name that does.
        return save_new(annotated, self.folder, exported_name(Path(image_path), self.label, self.hide, detections))


def detect(args: argparse.Namespace, detector) -> int:
    images, folders, failed = _photos_in(args.images, args.json)
    outputs = _Outputs(images, args.output, detector.label, args.anonymize, args.overwrite, folders)
    with _tables(args, images) as tables:
        return int(_detect_each(args, detector, images, outputs, tables) or failed)


def _photos_in(arguments: list[str], as_json: bool) -> tuple[list[str], bool, bool]:
    """The images to run on: each file as given, each folder's JPEGs (photo_folder.collect_photos,
    recursively); what a folder holds besides is said as skipped. (images, any folder, any
    folder without photos)."""
    from lwface_desktop.core.photo_folder import collect_photos

    images, folders, failed = [], False, False
    for argument in arguments:
        if not os.path.isdir(argument):
            images.append(argument)
            continue
        folders = True
        found = collect_photos([argument])
        images.extend(str(path) for path in found.photos)
        for skipped in found.skipped:
            report_skipped(as_json, str(skipped.path), skipped.reason)
        if found.skipped_count > len(found.skipped):
            report_skipped(as_json, argument, f"{found.skipped_count - len(found.skipped)} more files skipped")
        if found.cut_short():
            report_skipped(as_json, argument, f"the rest: {found.cut_short()}")
        if not found.photos:
            failed = True
            report_error(as_json, argument, f"{Path(argument).name or argument} holds no JPEG photos.")
    return images, folders, failed


def _tables(args: argparse.Namespace, images: list[str]):
    """--csv and --jsonl: every detection of every image (core.export.DetectionTables); OutputError
    before any work if one is an input or --output, they are one file, or one exists (without
    --overwrite)."""
    from lwface_desktop.core.export import DetectionTables
    from lwface_desktop.core.outputs import check_outputs, refuse_existing

    paths = [Path(p) if p else None for p in (args.csv, args.jsonl)]
    check_outputs(paths, [*images, *([args.output] if args.output else [])])
    if not args.overwrite:
        for path in paths:
            if path is not None:
                refuse_existing(path, OVERWRITE_HINT)
    return DetectionTables(*paths, overwrite=args.overwrite)


def _detect_each(args: argparse.Namespace, detector, images: list[str], outputs: _Outputs, tables) -> bool:
    from lwface_desktop.core.anonymise import HIDDEN_WORDS
    from lwface_desktop.core.detection import count_text
    from lwface_desktop.core.errors import UserError
    from lwface_desktop.core.pipeline import analyse_photo

    failed = False
    for image_path in images:
        target = None
        try:
            outputs.check()
            result = analyse_photo(image_path, detector, view_max_side=None, draw=outputs.wanted,
                                   hide=args.anonymize)
            timing = {"decode": ms(result.timing["decode"]), "detect": ms(result.timing["detect"])}
            if outputs.wanted:
                start = time.perf_counter()
                target = outputs.save(image_path, result.annotated, result.detections)
                timing["save"] = ms(result.timing["draw"] + time.perf_counter() - start)
            timing["total"] = round(sum(timing.values()), 1)
        except UserError as e:
            failed = True
            report_error(args.json, image_path, str(e))
            continue
        except MemoryError:
            failed = True
            report_error(args.json, image_path, f"{Path(image_path).name} needs more memory than is free.")
            continue
        except Exception as e:  # a bug of ours: said for this image, and the others go on
            if os.environ.get("LWFACE_DEBUG"):
                raise
            failed = True
            report_error(args.json, image_path, f"unexpected error: {e}")
            continue
        detections = result.detections
        if args.json:
            print(json.dumps({"image": image_path, "width": result.width, "height": result.height,
                              "detector": args.detector,
                              "detections": [d.to_json() for d in detections],
                              "timing_ms": timing}), flush=True)
        else:
            found = count_text(len(detections), detector.label)
            hidden = f" with faces {HIDDEN_WORDS[args.anonymize]}" if args.anonymize in HIDDEN_WORDS else ""
            saved = f", saved {target}{hidden}" if target is not None else ""
            print(f"{image_path}: {found} in {timing['total']:.0f} ms{saved}", flush=True)
        try:  # after the image's own line: its result stands even if the tables cannot take it
            tables.add(Path(image_path), result.width, result.height, detections, detector, target)
        except UserError as e:
            failed = True
            report_error(args.json, image_path, str(e))
    return failed


def bench(args: argparse.Namespace, detector) -> int:
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
        report_error(True, args.image, str(e))
        return 1
    result = {"image": args.image, "detector": args.detector, "runs": args.runs,
              "width": photo.width, "height": photo.height, "detections": len(detections),
              "median_ms": {stage: ms(statistics.median(times)) for stage, times in stages.items()}}
    if args.live:
        result["live"] = True  # YuNet's setting for video frames
    if args.detector == "yolov5":
        from lwface_desktop.core.yolo.detector import auto_precision

        why = auto_precision()[1] if args.precision == "auto" else "asked for with --precision"
        result.update(img_size=detector.img_size, precision=detector.precision, precision_why=why,
                      engine=detector.engine, threads=_torch_threads(), weights=str(detector.weights))
    print(json.dumps(result), flush=True)
    return 0


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()
