"""Peak memory of a fresh child process, as the child itself counts it.

The child reads VmHWM ("high water mark": its peak resident memory) from /proc/self/status
when it exits and reports it on stderr. Not getrusage's ru_maxrss: on Linux a child inherits
its parent's ru_maxrss, so a child started from pytest, which may have held models and 12 MP
photos, would read pytest's peak instead of its own (a parent holding 400 MB started a child
whose ru_maxrss read 408 MB while its VmHWM was 10.8 MB).

The child may call start_measuring() once it has imported what it needs: its peak is then
counted from there (Linux resets VmHWM to the current resident size when "5" is written to
/proc/self/clear_refs), and Measured.growth_mb is how far above that resident size it went.
Only the standard library is imported here: this module is loaded in every measured child.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

_REPORT = re.compile(r"\nlwface-test-memory: peak_kb=(\d+) baseline_kb=(\d+|None)\n")

_baseline_kb: int | None = None


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        return int(re.search(rf"^{field}:\s+(\d+) kB", status.read(), re.MULTILINE).group(1))


def start_measuring() -> None:
    """In the child: count its peak from here, above what it holds now (imports, inputs)."""
    global _baseline_kb
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")  # VmHWM := VmRSS
    except OSError:
        pass  # an older kernel: the peak so far stays in VmHWM, and counts as growth (never hides any)
    _baseline_kb = _status_kb("VmRSS")


def _report() -> None:
    sys.stderr.write(f"\nlwface-test-memory: peak_kb={_status_kb('VmHWM')} baseline_kb={_baseline_kb}\n")
    sys.stderr.flush()


@dataclass
class Measured:
    returncode: int
    stdout: str
    stderr: str  # without the memory report
    peak_mb: float | None  # None if the child died without exiting normally (a signal, os._exit)
    baseline_mb: float | None  # resident size at start_measuring(), if the child called it

    @property
    def growth_mb(self) -> float:
        assert self.peak_mb is not None and self.baseline_mb is not None, "the child did not call start_measuring()"
        return self.peak_mb - self.baseline_mb

    @property
    def lines(self) -> list[dict]:
        """The JSON objects printed on stdout, one a line (the CLI's --json output)."""
        return [json.loads(line) for line in self.stdout.splitlines() if line.startswith("{")]


def run_python(code: str, *args, timeout: float = 300, env: dict | None = None) -> Measured:
    """Run code in a fresh interpreter (sys.argv[1:] = args, the repository importable) and
    return what it printed, its exit code and its own peak resident memory at exit.
    The timeout is a safety net against a hang, not a measure."""
    prelude = (f"import atexit, sys\nsys.path.insert(0, {str(REPO)!r})\nimport tests.memory\n"
               "atexit.register(tests.memory._report)\n")
    result = subprocess.run([sys.executable, "-c", prelude + code, *map(str, args)],
                            capture_output=True, text=True, timeout=timeout, env=env)
    found = _REPORT.search(result.stderr)
    if found is None:
        return Measured(result.returncode, result.stdout, result.stderr, None, None)
    peak_kb, baseline_kb = found.groups()
    return Measured(result.returncode, result.stdout, result.stderr[:found.start()] + result.stderr[found.end():],
                    int(peak_kb) / 1024, None if baseline_kb == "None" else int(baseline_kb) / 1024)


_CLI = ("import runpy\n"
        "sys.argv = ['lwface-desktop', *sys.argv[1:]]\n"
        "runpy.run_module('lwface_desktop', run_name='__main__')\n")


def run_cli(*args, timeout: float = 60, env: dict | None = None) -> Measured:
    """`lwface-desktop args` in a fresh process, measured as run_python does (the whole process:
    imports included)."""
    return run_python(_CLI, *args, timeout=timeout, env=env)
