"""Keep freed memory for the next frame instead of handing it back to the system each time.

glibc returns big freed blocks to the kernel at once (mmap above its threshold, and trimming
the heap's top); YOLOv5's activations are such blocks, so every frame mapped them afresh and
the kernel zeroed each page on first touch: ~4,000 page faults per frame at 640 in fp32,
a share of the frame's time measured with benchmarks/yolo_speed.py. With these settings the
blocks under 32 MB are reused from the heap (0 faults per frame); a 12 MP photo's buffers, over
32 MB, still go back to the system when freed.

Pillow allocates a decoded image in blocks of 16 MB by default, and zeroes them: from the heap
that is a memset with the GIL held, 0.1-0.4 s for a 120 MP photo, during which the GUI thread
could not run (benchmarks/save_stall.py). Its blocks are made larger than the threshold, so
they are mapped afresh: the kernel's pages come zeroed, touched by the decoder without the GIL.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameters (malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20   # glibc's own maximum for the dynamic threshold
TRIM_THRESHOLD = 128 << 20  # free memory kept at the heap's top before any is returned
PILLOW_BLOCK_SIZE = 2 * MMAP_THRESHOLD  # every full block mapped, never taken from the heap


def keep_freed_memory() -> bool:
    """Apply the settings above where the C library is glibc; False elsewhere (nothing done)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others have no mallopt
        return False
    if not (mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)):
        return False
    from PIL import Image

    Image.core.set_block_size(PILLOW_BLOCK_SIZE)
    return True
