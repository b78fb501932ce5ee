"""Keep freed memory for the next frame instead of handing it back to the system each time.

glibc returns big freed blocks to the kernel at once (mmap above its threshold, and trimming
the heap's top); YOLOv5's activations are such blocks, so every frame mapped them afresh and
the kernel zeroed each page on first touch: ~4,000 page faults per frame at 640 in fp32,
a share of the frame's time measured with benchmarks/yolo_speed.py. With these settings the
blocks under 32 MB are reused from the heap (0 faults per frame); a 12 MP photo's buffers, over
32 MB, still go back to the system when freed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameters (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20   # glibc's own maximum for the dynamic threshold
TRIM_THRESHOLD = 128 << 20  # free memory kept at the heap's top before any is returned


def keep_freed_memory() -> bool:
    """Apply the settings above where the C library is glibc; False elsewhere (nothing done)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others have no mallopt
        return False
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
