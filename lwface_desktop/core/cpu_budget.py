"""How many threads detection may use: for torch one per physical core but one, so that the GUI,
the camera's capture and the drawing always have a core (one less beside YuNet, with Faces +
people); OpenCV, whose loops need no such room, every core.

Measured (benchmarks/threads.py, under taskset, `video`'s pipeline): on 2 CPUs that decoding
and drawing also need, YOLOv5 at 640 showed 15.7-18.9 fps with one torch thread, 1.9 with two.
The cores counted are those this process may run on (its affinity, which `taskset` sets) and
physical ones: two hyper-threads of one core share its arithmetic units.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

SYS_CPU = Path("/sys/devices/system/cpu")


@dataclass(frozen=True)
class Budget:
    """Threads for torch's intra-op pool and for OpenCV's, which may run at the same time."""

    torch_threads: int
    opencv_threads: int


def physical_cores(sys_cpu: Path = SYS_CPU) -> int:
    """Physical cores among the CPUs this process may use (sched affinity; `taskset` sets it).
    Hyper-threads of one core count once. Without a readable topology: the logical CPUs."""
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else list(range(os.cpu_count() or 1))
    cores = set()
    for cpu in cpus:
        topology = sys_cpu / f"cpu{cpu}" / "topology"
        try:
            cores.add(((topology / "physical_package_id").read_text().strip(),
                       (topology / "core_id").read_text().strip()))
        except OSError:
            return max(1, len(cpus))
    return max(1, len(cores))


def detection_threads() -> int:
    """One thread per physical core but one; LWFACE_THREADS overrides."""
    override = _override()
    return override if override else max(1, physical_cores() - 1)


def budget(faces_beside_objects: bool = False) -> Budget:
    """torch gets detection_threads(); with Faces + people one less (at least one), for YuNet's
    pass beside it. OpenCV may use every core: its parallel loops hand out coarse chunks and do
    not wait on each other layer by layer as torch's threads do (YuNet's live frame on 2 CPUs:
    11.7 ms with two threads, 22 ms with one; torch with two threads: ten times slower)."""
    threads = detection_threads()
    opencv = _override() or physical_cores()
    return Budget(torch_threads=max(1, threads - 1) if faces_beside_objects else threads, opencv_threads=opencv)


def _override() -> int | None:
    value = os.environ.get("LWFACE_THREADS", "")
    return max(1, int(value)) if value.isdigit() else None


def for_detector(detector: object) -> Budget:
    """The budget while this detector runs frame after frame (the live tab, `video`)."""
    from lwface_desktop.core.faces_and_people import FacesAndPeople

    return budget(faces_beside_objects=isinstance(detector, FacesAndPeople))


def start() -> None:
    """At start-up, before other threads use OpenCV: its pool size, set once. (Changing it while
    another thread is inside an OpenCV parallel loop can crash OpenCV, so it is never changed
    later; during a Faces + people frame YuNet's pass may borrow the core left to the GUI.)"""
    import cv2

    cv2.setNumThreads(budget().opencv_threads)


def apply(split: Budget) -> None:
    """torch's threads for what runs now; only if torch is loaded already (Faces mode never
    imports it). Called between frames, never inside a forward pass."""
    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != split.torch_threads:
        torch.set_num_threads(split.torch_threads)
