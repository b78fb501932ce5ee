"""YoloDetector: a checkpoint in, list[Detection] per RGB image out; built once, reused per frame."""

from __future__ import annotations

import contextlib
import copy
import threading
import time
from pathlib import Path

import numpy as np
import torch

from lwface_desktop.core import cpu_budget
from lwface_desktop.core.detection import Detection, Detector
from lwface_desktop.core.yolo import fused
from lwface_desktop.core.yolo.architecture import ArchitectureError
from lwface_desktop.core.yolo.checkpoint import Checkpoint, ModelError, error_text, load_checkpoint
from lwface_desktop.core.yolo.model import YoloV5
from lwface_desktop.core.yolo.processing import PAD_GREY, letterbox, postprocess

PRECISIONS = ("auto", "fp32", "bf16")
# Photos run in fp32: there it gives the official detections on all 12 reference JPEGs
# (159 of 159 boxes), where bf16 misses 3 (a score off by 0.034, two boxes at IoU < 0.9),
# and a photo's extra ~30 ms goes unnoticed. The live camera keeps bf16's speed ("auto").
PHOTO_PRECISION = "fp32"
# Bounds that keep time and memory in check at any setting: 0.001 and 1,000 boxes are the
# official evaluation's score floor and cap; 1920 covers the P6 models' 1280 with a margin.
MIN_CONF = 0.001
MAX_DETECTIONS = 1000
MAX_IMG_SIZE = 1920


def auto_precision() -> tuple[str, str]:
    """("bf16" or "fp32", why): bf16 where the CPU has native bf16 (AMX or AVX512-BF16), where it
    halves YOLOv5's time; fp32 elsewhere, where bf16 is emulated and slower. Read from the CPU,
    not timed: a timing race at start-up picked fp32 on one run and bf16 on the next whenever
    another program kept the other core busy."""
    flags = _cpu_flags()
    for flag, name in (("amx_bf16", "AMX"), ("avx512_bf16", "AVX512-BF16")):
        if flag in flags:
            return "bf16", f"this CPU has native bf16 ({name})"
    return "fp32", "this CPU has no native bf16 (no AMX or AVX512-BF16)"


def _cpu_flags() -> set[str]:
    """The CPU's bf16-related capabilities, as torch's cpuinfo sees them (or /proc/cpuinfo)."""
    try:
        capabilities = torch.cpu.get_capabilities()  # type: ignore[attr-defined]
        return {name for name, present in capabilities.items() if present is True}
    except (AttributeError, RuntimeError):  # an older torch
        try:
            with open("/proc/cpuinfo") as f:
                return {flag for line in f if line.startswith("flags") for flag in line.split()[2:]}
        except OSError:
            return set()


def build_network(checkpoint: Checkpoint, name: str) -> YoloV5:
    """The checkpoint's network, BatchNorm folded, ready for inference; run once on a blank image
    and its output checked, so that a model that cannot detect is refused here (ModelError naming
    the file `name`), not on the first photo."""
    try:
        network = YoloV5(checkpoint.architecture, checkpoint.strides, batch_norm=checkpoint.batch_norm)
        network.load_state_dict(checkpoint.state)
    except MemoryError:
        raise ModelError(f"{name} is too large to load in the memory available.") from None
    except (ArchitectureError, RuntimeError) as e:  # load_checkpoint checked both: a guard
        raise ModelError(f"{name} is not a usable YOLOv5 model: {error_text(e)}.") from None
    # Fold BatchNorm, freeze, and use channels-last memory: about 30% faster on CPUs.
    network = network.fuse().eval().requires_grad_(False).to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    _check_forward(network, name)
    return network


def _check_forward(network: YoloV5, name: str) -> None:
    """One pass on a small grey image (twice the largest stride): the output must have the
    planned shape, (1, boxes, 5 + classes), and be finite."""
    plan = network.plan
    size = 2 * max(plan.strides)
    blank = torch.full((1, 3, size, size), PAD_GREY / 255).contiguous(memory_format=torch.channels_last)
    try:
        with torch.inference_mode():
            out = network(blank)
    except Exception as e:  # whatever a broken network raises: the file is at fault, not the caller
        raise ModelError(f"{name} is not a usable YOLOv5 model: it fails on a test image ({error_text(e)}).") from None
    if tuple(out.shape) != (1, plan.outputs(size, size), plan.nc + 5):
        raise ModelError(f"{name} is not a usable YOLOv5 model: its output on a test image has the wrong shape.")
    if not bool(torch.isfinite(out).all()):
        raise ModelError(f"{name} is not a usable YOLOv5 model: its output on a test image is not finite "
                         "(its weights are damaged).")


def build_fused(network: YoloV5, precision: str) -> YoloV5 | None:
    """fused.fuse_for_cpu(network), checked against the eager network on a test image; None
    (run the eager network) where this torch lacks the fused kernel or it disagrees."""
    if not fused.available():
        return None
    size = 2 * max(network.plan.strides)
    image = np.random.default_rng(0).integers(0, 256, (size, size, 3), dtype=np.uint8)
    try:
        candidate = fused.fuse_for_cpu(network, precision)
        with torch.inference_mode():
            expected = run_eager(network, fused.network_input(image, "fp32"), precision)
            got = candidate(fused.network_input(image, precision))
    except Exception:  # noqa: BLE001 - private oneDNN ops that another torch lacks, refuses or calls otherwise
        return None
    if got.shape != expected.shape:
        return None
    scores_agree = torch.allclose(got[..., 4:], expected[..., 4:], atol=1e-4 if precision == "fp32" else 0.1)
    return candidate if scores_agree else None


def run_eager(network: YoloV5, batch: torch.Tensor, precision: str) -> torch.Tensor:
    """The eager network on a float32 channels-last batch, under bf16 autocast for "bf16"; float32 out."""
    autocast = torch.autocast("cpu", dtype=torch.bfloat16) if precision == "bf16" else contextlib.nullcontext()
    with autocast:
        return network(batch).float()


class YoloDetector(Detector):
    """YOLOv5 on the CPU. Thread-safe: one object can serve every frame from any thread."""

    def __init__(self, weights: str | Path, img_size: int = 640, conf: float = 0.25, iou: float = 0.45,
                 max_detections: int = 300, classes: set[int] | None = None, precision: str = "auto",
                 threads: int | None = None):
        """ModelError (never ValueError) for anything wrong with the model file; ValueError only
        for this call's own arguments (an img_size the model cannot take, an unknown precision)."""
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}")
        checkpoint = load_checkpoint(weights)
        torch.set_num_threads(threads or cpu_budget.detection_threads())
        self.network = build_network(checkpoint, Path(weights).name)
        self.names = checkpoint.names
        self.stride = max(checkpoint.strides)
        self.weights = Path(weights)
        self.label, self.kind = "object", "yolov5"
        self.conf, self.iou, self.max_detections, self.classes = conf, iou, max_detections, classes
        self.img_size = img_size
        self._lock = threading.Lock()
        self.precision = auto_precision()[0] if precision == "auto" else precision
        # The networks that run, per precision (fused.py; None: the eager one), shared by
        # with_options() copies and built on first use.
        self._runners: dict[str, YoloV5 | None] = {}

    @property
    def img_size(self) -> int:
        return self._img_size

    @img_size.setter
    def img_size(self, size: int) -> None:
        if size < self.stride or size % self.stride or size > MAX_IMG_SIZE:
            raise ValueError(f"the input size must be a multiple of {self.stride} up to {MAX_IMG_SIZE}, got {size}")
        self._img_size = size

    def with_options(self, **options) -> YoloDetector:
        """A detector that shares this one's network and lock but has its own settings
        (img_size, conf, iou, max_detections, classes, precision): one model, several users."""
        other = copy.copy(self)
        for name, value in options.items():
            if name == "precision" and value not in PRECISIONS[1:]:
                raise ValueError(f"precision must be fp32 or bf16, got {value}")
            if name not in ("img_size", "conf", "iou", "max_detections", "classes", "precision"):
                raise TypeError(f"unknown option {name}")
            setattr(other, name, value)
        return other

    def lowest_score(self) -> float:
        return self.conf

    def class_ids(self, names: list[str]) -> set[int]:
        """Class ids for class names; ValueError naming any that this model does not know."""
        unknown = [n for n in names if n not in self.names]
        if unknown:
            raise ValueError(f"unknown class {', '.join(unknown)}; this model knows: {', '.join(self.names)}")
        return {self.names.index(n) for n in names}

    def detect(self, image: np.ndarray) -> list[Detection]:
        """Objects in image (HxWx3 uint8 RGB), best first; boxes in image pixels."""
        return self.detect_timed(image)[0]

    def detect_timed(self, image: np.ndarray) -> tuple[list[Detection], dict[str, float]]:
        """detect(), plus seconds spent in preprocess, inference and postprocess."""
        start = time.perf_counter()
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=2)
        padded, fit = letterbox(image, self.img_size, self.stride)
        with self._lock, torch.inference_mode():
            runner = self._runner()  # None: the eager network, which takes float32
            batch = fused.network_input(padded, self.precision if runner is not None else "fp32")
            prepared = time.perf_counter()
            raw = (runner(batch) if runner is not None else run_eager(self.network, batch, self.precision))[0]
        inferred = time.perf_counter()
        found = postprocess(raw, fit, (image.shape[1], image.shape[0]), self.conf, self.iou,
                            self.max_detections, self.classes)
        detections = [Detection(x1, y1, x2, y2, score, self.names[label]) for (x1, y1, x2, y2), score, label in found]
        done = time.perf_counter()
        return detections, {"preprocess": prepared - start, "inference": inferred - prepared,
                            "postprocess": done - inferred}

    @property
    def engine(self) -> str:
        """How the network runs: "fused" (fused.py), or "eager" where this torch lacks the
        fused kernels (the same network, about 25% slower)."""
        with self._lock:
            return "eager" if self._runner() is None else "fused"

    def _runner(self) -> YoloV5 | None:
        """The fused network for this precision, built the first time (callers hold the lock)."""
        if self.precision not in self._runners:
            self._runners[self.precision] = build_fused(self.network, self.precision)
        return self._runners[self.precision]
