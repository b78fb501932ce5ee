"""How many threads detection may use: for torch one per physical core but one, so that the GUI,
the camera's capture and the drawing always have a core; OpenCV, whose loops need no such
room, every core when it runs alone and one when it runs beside torch.

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
    """torch gets detection_threads(). OpenCV alone may use every core: its parallel loops hand
    out coarse chunks and do not wait on each other layer by layer as torch's threads do
    (YuNet's live frame, 2 CPUs: 11.7 ms with two threads, 22 ms with one; torch with two
    threads: ten times slower). With Faces + people, YuNet (one OpenCV thread) runs beside
    YOLOv5, which gets the rest (at least one: on 2 cores they share the GUI's core)."""
    threads = detection_threads()
    if faces_beside_objects:
        return Budget(torch_threads=max(1, threads - 1), opencv_threads=1)
    return Budget(torch_threads=threads, opencv_threads=_override() or physical_cores())


def _override() -> int | None:
    value = os.environ.get("LWFACE_THREADS", "")
    return max(1, int(value)) if value.isdigit() else None


def for_detector(detector: object) -> Budget:
    """The budget while this detector runs frame after frame (the live tab, `video`)."""
    from lwface_desktop.core.faces_and_people import FacesAndPeople

    return budget(faces_beside_objects=isinstance(detector, FacesAndPeople))


def apply(split: Budget) -> None:
    """Set both pools. torch only if it is loaded already: Faces mode never imports it."""
    import cv2

    if cv2.getNumThreads() != split.opencv_threads:
        cv2.setNumThreads(split.opencv_threads)
    torch = sys.modules.get("torch")
    if torch is not None and torch.get_num_threads() != split.torch_threads:
        torch.set_num_threads(split.torch_threads)
