"""Detection threads: physical cores this process may use, minus one for the GUI and capture."""

import os
import subprocess
import sys

import pytest

from lwface_desktop.core import cpu_budget
from lwface_desktop.core.cpu_budget import Budget


def fake_topology(root, cores_of_cpus: list[tuple[int, int]]):
    """/sys/devices/system/cpu with cpuN/topology/{physical_package_id, core_id}."""
    for cpu, (package, core) in enumerate(cores_of_cpus):
        topology = root / f"cpu{cpu}" / "topology"
        topology.mkdir(parents=True)
        (topology / "physical_package_id").write_text(f"{package}\n")
        (topology / "core_id").write_text(f"{core}\n")
    return root


@pytest.mark.parametrize("allowed, expected", [
    ({0, 1, 2, 3, 4, 5, 6, 7}, 4),  # 4 cores with 2 hyper-threads each
    ({0, 1}, 1),                    # taskset -c 0,1: the two threads of core 0
    ({0, 2, 4}, 3),                 # taskset -c 0,2,4: one thread on each of three cores
])
def test_physical_cores_counts_hyperthreads_once_and_follows_the_affinity(tmp_path, monkeypatch, allowed, expected):
    root = fake_topology(tmp_path, [(0, 0), (0, 0), (0, 1), (0, 1), (0, 2), (0, 2), (0, 3), (0, 3)])
    monkeypatch.setattr(cpu_budget.os, "sched_getaffinity", lambda pid: allowed)
    assert cpu_budget.physical_cores(root) == expected


def test_two_sockets_with_the_same_core_ids_are_different_cores(tmp_path, monkeypatch):
    root = fake_topology(tmp_path, [(0, 0), (0, 1), (1, 0), (1, 1)])
    monkeypatch.setattr(cpu_budget.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    assert cpu_budget.physical_cores(root) == 4


def test_without_a_topology_the_logical_cpus_count(tmp_path, monkeypatch):
    monkeypatch.setattr(cpu_budget.os, "sched_getaffinity", lambda pid: {0, 1, 2})
    assert cpu_budget.physical_cores(tmp_path / "missing") == 3


@pytest.mark.parametrize("cores, alone, beside", [
    (1, Budget(1, 1), Budget(1, 1)),
    (2, Budget(1, 2), Budget(1, 2)),
    (4, Budget(3, 4), Budget(2, 4)),
    (8, Budget(7, 8), Budget(6, 8)),
])
def test_torch_never_takes_the_last_core(monkeypatch, cores, alone, beside):
    monkeypatch.delenv("LWFACE_THREADS", raising=False)
    monkeypatch.setattr(cpu_budget, "physical_cores", lambda: cores)
    assert cpu_budget.budget() == alone
    assert cpu_budget.budget(faces_beside_objects=True) == beside
    # torch and YuNet's thread beside it leave a core free where there are 3+.
    assert beside.torch_threads + 1 <= max(2, cores - 1)


def test_lwface_threads_overrides(monkeypatch):
    monkeypatch.setenv("LWFACE_THREADS", "3")
    monkeypatch.setattr(cpu_budget, "physical_cores", lambda: 16)
    assert cpu_budget.budget() == Budget(3, 3)


def test_faces_and_people_gets_the_split_budget(monkeypatch, random_weights):
    from lwface_desktop.core.detectors import Detectors

    detectors = Detectors(random_weights)
    both, faces = detectors.get("faces+people", live=True), detectors.get("yunet", live=True)
    monkeypatch.setattr(cpu_budget, "physical_cores", lambda: 8)  # after the model set torch's threads
    monkeypatch.delenv("LWFACE_THREADS", raising=False)
    assert cpu_budget.for_detector(both) == Budget(6, 8)
    assert cpu_budget.for_detector(faces) == Budget(7, 8)


def test_applying_a_budget_never_loads_torch():
    """Faces mode never imports torch (it costs ~0.3 s and 300 MB); the budget must not either."""
    code = ("import sys; from lwface_desktop.core import cpu_budget; import cv2; cpu_budget.start(); "
            "cpu_budget.apply(cpu_budget.Budget(1, 1)); print(cv2.getNumThreads(), 'torch' in sys.modules)")
    env = {**os.environ, "LWFACE_THREADS": "3"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert out.split() == ["3", "False"]
