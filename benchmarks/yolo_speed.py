"""YOLOv5 end to end (letterbox + forward + NMS) on a 1280x720 photo, one thread, against the
official implementation's way of running it, side by side in one process.

    python -m benchmarks.yolo_speed WEIGHTS PHOTO [--sizes 640 320] [--rounds 3] [--runs 15]

The baseline is what the official implementation runs: this network in eager mode, BatchNorm
folded (as its loader does), NCHW contiguous, fp32, with the same pre- and post-processing.
Each round times every variant `runs` times in turn (interleaved) and keeps each one's median;
the table shows the median of the rounds' medians and its ratio to the baseline's. Besides the
app's own path (YoloDetector: fused.py) it measures the ways the issue suggested trying:
torch.jit.trace + freeze (+ optimize_for_inference) and the oneDNN graph fuser.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import cv2
import numpy as np
import torch

from lwface_desktop.core.allocator import keep_freed_memory
from lwface_desktop.core.images import read_jpeg
from lwface_desktop.core.yolo.checkpoint import load_checkpoint
from lwface_desktop.core.yolo.detector import YoloDetector, run_eager
from lwface_desktop.core.yolo.model import YoloV5
from lwface_desktop.core.yolo.processing import letterbox, postprocess, to_tensor


def photo_720p(path: str) -> np.ndarray:
    """The photo centre-cropped to 16:9 and scaled to 1280x720 (RGB)."""
    image = read_jpeg(path)
    height, width = image.shape[:2]
    crop_h = min(height, width * 9 // 16)
    top = (height - crop_h) // 2
    crop_w = crop_h * 16 // 9
    left = (width - crop_w) // 2
    return cv2.resize(image[top:top + crop_h, left:left + crop_w], (1280, 720), interpolation=cv2.INTER_AREA)


def eager_network(weights: str) -> YoloV5:
    checkpoint = load_checkpoint(weights)
    network = YoloV5(checkpoint.architecture, checkpoint.strides)
    network.load_state_dict(checkpoint.state)
    return network.fuse().eval().requires_grad_(False)


def end_to_end(forward, prepare, size: int):
    """One detection as the official pipeline does it, with `forward` as the network."""
    def run(image: np.ndarray):
        padded, fit = letterbox(image, size)
        with torch.inference_mode():
            raw = forward(prepare(padded))[0].float()
        return postprocess(raw, fit, (image.shape[1], image.shape[0]))
    return run


def nchw(padded):
    return to_tensor(padded)


def channels_last(padded):
    return to_tensor(padded).contiguous(memory_format=torch.channels_last)


def traced(network: YoloV5, example: torch.Tensor, optimize: bool, bf16: bool = False):
    """torch.jit.trace + freeze (+ optimize_for_inference), for one input shape."""
    if bf16:
        network, example = network.to(torch.bfloat16), example.to(torch.bfloat16)
    with torch.no_grad():
        module = torch.jit.freeze(torch.jit.trace(network, example, check_trace=False))
        if optimize:
            module = torch.jit.optimize_for_inference(module)
        for _ in range(3):  # the profiling executor specialises on the first runs
            module(example)
    return module


def variants(weights: str, size: int, image: np.ndarray, alternatives: bool) -> dict:
    """name -> a function detecting on image; the first is the baseline."""
    baseline = eager_network(weights)
    example = channels_last(letterbox(image, size)[0])
    found = {"official way: eager, NCHW, fp32": end_to_end(baseline, nchw, size)}
    last = eager_network(weights).to(memory_format=torch.channels_last)
    found["before: eager channels-last fp32"] = end_to_end(last, channels_last, size)
    found["before: eager channels-last bf16"] = end_to_end(lambda batch: run_eager(last, batch, "bf16"),
                                                           channels_last, size)
    for precision in ("fp32", "bf16"):
        detector = YoloDetector(weights, img_size=size, conf=0.25, precision=precision, threads=1)
        found[f"lwface now: fused {precision}"] = detector.detect
    if alternatives:
        found["jit trace+freeze fp32"] = end_to_end(traced(last, example, False), channels_last, size)
        found["jit +optimize_for_inference fp32"] = end_to_end(traced(last, example, True), channels_last, size)
        torch.jit.enable_onednn_fusion(True)
        found["oneDNN graph fuser fp32"] = end_to_end(traced(last, example, False), channels_last, size)
        bf16_net = eager_network(weights).to(memory_format=torch.channels_last)
        found["oneDNN graph fuser bf16"] = end_to_end(
            traced(bf16_net, example, False, bf16=True), lambda p: channels_last(p).to(torch.bfloat16), size)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("weights")
    parser.add_argument("photo")
    parser.add_argument("--sizes", type=int, nargs="+", default=[640, 320])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--no-alternatives", dest="alternatives", action="store_false",
                        help="only the baseline and the app's paths")
    parser.add_argument("--glibc-default", action="store_true",
                        help="leave glibc's allocator as it is (the app keeps freed memory: core/allocator.py)")
    args = parser.parse_args()
    if not args.glibc_default:  # as the app does; process-wide, so the baseline gets it too
        keep_freed_memory()
    torch.set_num_threads(1)
    image = photo_720p(args.photo)
    for size in args.sizes:
        runs = variants(args.weights, size, image, args.alternatives)
        for run in runs.values():  # warm: first-call costs (weight packing, tracing) are not timed
            for _ in range(3):
                run(image)
        rounds: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(args.rounds):
            times: dict[str, list[float]] = {name: [] for name in runs}
            for _ in range(args.runs):
                for name, run in runs.items():
                    start = time.perf_counter()
                    run(image)
                    times[name].append(time.perf_counter() - start)
            for name in runs:
                rounds[name].append(statistics.median(times[name]))
        base = statistics.median(next(iter(rounds.values())))
        for name, medians in rounds.items():
            ms = statistics.median(medians) * 1000
            print(json.dumps({"size": size, "variant": name, "ms": round(ms, 1),
                              "vs_official": round(ms / 1000 / base, 2),
                              "rounds_ms": [round(m * 1000, 1) for m in medians]}), flush=True)


if __name__ == "__main__":
    main()
