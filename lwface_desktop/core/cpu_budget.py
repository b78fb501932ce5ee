"""How many threads detection may use: one per physical core but one, so that the GUI, the
camera's capture and the drawing always have a core, and never more than that in all.

Measured (benchmarks/threads.py, under taskset): on a core that the camera loop also needs, a
second torch thread makes YOLOv5 several times slower (20 ms -> 133 ms a frame), not faster.
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
    if os.environ.get("LWFACE_THREADS", "").isdigit():
        return max(1, int(os.environ["LWFACE_THREADS"]))
    return max(1, physical_cores() - 1)


def budget(faces_beside_objects: bool = False) -> Budget:
    """The split of detection_threads(): all of them for whichever library runs alone; with
    Faces + people, YuNet's thread (OpenCV, one thread) runs beside YOLOv5, which gets the rest
    (at least one: on a 2-core machine the two then share the second core with the GUI's)."""
    threads = detection_threads()
    if faces_beside_objects:
        return Budget(torch_threads=max(1, threads - 1), opencv_threads=1)
    return Budget(torch_threads=threads, opencv_threads=threads)


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
