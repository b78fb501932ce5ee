"""The YOLOv5 forward pass under each optimisation, idle and with the other CPU busy.

`python benchmarks/yolo_forward.py WEIGHTS [SIZE]` prints one JSON line per thread count and
load: median ms of the plain eager unfused network (the baseline), BatchNorm folded,
+ channels-last memory, + bfloat16 autocast. Input: the astronaut letterboxed to SIZE.
"""

import json
import multiprocessing
import statistics
import sys
import time

import torch
from skimage import data

from lwface_desktop.core.yolo.checkpoint import load_checkpoint
from lwface_desktop.core.yolo.model import YoloV5
from lwface_desktop.core.yolo.processing import letterbox, to_tensor


def median_ms(network, batch, bf16=False, runs=20):
    times = []
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        for _ in range(3):
            network(batch)
        for _ in range(runs):
            start = time.perf_counter()
            network(batch)
            times.append(time.perf_counter() - start)
    return round(statistics.median(times) * 1000, 1)


def spin():
    while True:
        pass


def main(weights, size=640):
    checkpoint = load_checkpoint(weights)
    batch = to_tensor(letterbox(data.astronaut(), size)[0])
    for busy in (False, True):
        load = multiprocessing.Process(target=spin, daemon=True) if busy else None
        if load:
            load.start()
        for threads in (1, 2):
            torch.set_num_threads(threads)
            network = YoloV5(checkpoint.architecture, checkpoint.strides)
            network.load_state_dict(checkpoint.state)
            network.eval()
            result = {"size": size, "threads": threads, "other_cpu_busy": busy,
                      "eager_unfused": median_ms(network, batch)}
            network.fuse()
            result["bn_folded"] = median_ms(network, batch)
            network = network.to(memory_format=torch.channels_last)
            last = batch.contiguous(memory_format=torch.channels_last)
            result["folded_channels_last"] = median_ms(network, last)
            result["folded_channels_last_bf16"] = median_ms(network, last, bf16=True)
            print(json.dumps(result), flush=True)
        if load:
            load.terminate()


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 640)
