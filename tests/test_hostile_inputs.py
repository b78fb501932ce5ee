"""Hostile inputs, generated here: each gets a message in plain words, in bounded time and
memory; nothing of the user's is overwritten; a batch goes on past a bad input.

Time is never asserted: subprocesses have a generous timeout only as a safety net against a
hang. Memory is the child's own peak RSS (VmHWM), reported at exit (tests.memory).
"""

import hashlib
import io
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import warnings

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data

from lwface_desktop.core import outputs
from lwface_desktop.core.images import ImageError, read_jpeg
from lwface_desktop.core.jpeg_layout import MAX_FILE_BYTES, MAX_SCANS
from tests.conftest import jpeg_bytes, temporaries, with_jpeg_size
from tests.memory import Measured, run_cli, run_python

GOOD = jpeg_bytes(data.astronaut())
PROGRESSIVE = jpeg_bytes(data.astronaut(), progressive=True)

def cli(*args) -> Measured:
    """The CLI in a fresh process: its output, exit code and its own peak memory (tests.memory)."""
    run = run_cli(*args)
    assert "Traceback" not in run.stderr, run.stderr
    assert "unexpected error" not in run.stdout + run.stderr
    return run


def test_memory_is_measured_in_the_child_alone():
    """What the memory bounds here and in tests/core rest on: a child's peak is its own, not the
    peak of pytest (which getrusage would give it), and start_measuring() counts from where it is."""
    held = np.ones(200 << 20, np.uint8)  # this process holds 200 MB more while the children run
    idle = run_python("pass")
    measured = run_python("from tests.memory import start_measuring\n"
                          "before = b'\\1' * (300 << 20)\n"
                          "del before\n"
                          "start_measuring()\n"
                          "during = b'\\1' * (100 << 20)\n")
    del held
    assert idle.returncode == measured.returncode == 0, measured.stderr
    print(f"idle child {idle.peak_mb:.0f} MB; child growing 100 MB: {measured.growth_mb:.0f} MB "
          f"above {measured.baseline_mb:.0f} MB")
    assert idle.peak_mb < 50
    assert 100 <= measured.growth_mb < 110 and measured.peak_mb < 150  # the 300 MB before does not count


def digest(path) -> str:
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def decode_error(path) -> str | None:
    try:
        read_jpeg(path)
    except ImageError as e:
        return str(e)
    return None


def write(folder, name, content: bytes):
    path = folder / name
    path.write_bytes(content)
    return path


# --- photos whose bytes lie -------------------------------------------------------------

@pytest.mark.parametrize("fraction", np.linspace(0.0, 0.995, 40))
def test_a_jpeg_cut_short_anywhere_says_so(tmp_path, fraction):
    for kind, jpeg in (("baseline", GOOD), ("progressive", PROGRESSIVE)):
        cut = max(1, int(len(jpeg) * fraction))
        path = write(tmp_path, f"{kind}.jpg", jpeg[:cut])
        assert decode_error(path) == f"{kind}.jpg is not a complete JPEG file (it was cut short).", cut


@pytest.mark.parametrize("width, height, words", [
    (0, 512, "size.jpg is a damaged JPEG file: its header gives a size of 0 × 512 pixels."),
    (512, 0, "size.jpg is a damaged JPEG file: its header gives a size of 512 × 0 pixels."),
    (65535, 65535, "size.jpg is 65535 × 65535 pixels (4295 megapixels); "
                   "the largest supported photo has 120 megapixels."),
    (1, 65535, "size.jpg is a damaged JPEG file and cannot be opened."),   # the data is for 512 x 512
    (65535, 1, "size.jpg is a damaged JPEG file and cannot be opened."),
])
def test_header_sizes_that_lie_are_refused(tmp_path, width, height, words):
    assert decode_error(write(tmp_path, "size.jpg", with_jpeg_size(GOOD, width, height))) == words


def _with_app1(jpeg: bytes, payload: bytes) -> bytes:
    return jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpeg[2:]


def _exif(entries, ifd_offset=8) -> bytes:
    """An EXIF block with IFD0 at ifd_offset holding (tag, type, count, 4 value bytes) entries."""
    ifd = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHI4s", *e) for e in entries) + bytes(4)
    return b"Exif\x00\x00II*\x00" + struct.pack("<I", ifd_offset) + ifd


SHORT = 3  # the EXIF type of the orientation tag


@pytest.mark.parametrize("name, payload", [
    ("ifd-offset-out-of-range", _exif([], ifd_offset=0xFFFFFF00)),
    ("huge-count", _exif([(0x0112, SHORT, 0xFFFFFFFF, b"\x06\x00\x00\x00")])),
    ("value-offset-out-of-range", _exif([(0x0112, SHORT, 4, struct.pack("<I", 0xFFFFFF))])),
    ("orientation-0", _exif([(0x0112, SHORT, 1, struct.pack("<HH", 0, 0))])),
    ("orientation-9", _exif([(0x0112, SHORT, 1, struct.pack("<HH", 9, 0))])),
    ("orientation-65535", _exif([(0x0112, SHORT, 1, struct.pack("<HH", 65535, 0))])),
    ("orientation-as-text", _exif([(0x0112, 2, 4, b"six\x00")])),
    ("65535-entries", b"Exif\x00\x00II*\x00" + struct.pack("<IH", 8, 0xFFFF)),
    ("ifd-pointing-at-itself", b"Exif\x00\x00II*\x00" + struct.pack("<IHI", 8, 0, 8)),
    ("exif-ifd-out-of-range", _exif([(0x8769, 4, 1, struct.pack("<I", 0x7FFFFFFF))])),
    ("gps-ifd-out-of-range", _exif([(0x8825, 4, 1, struct.pack("<I", 0xFFFFFFF0))])),
    ("header-only", b"Exif\x00\x00II*\x00"),
    ("not-tiff", b"Exif\x00\x00" + b"garbage" * 20),
])
def test_broken_exif_counts_as_no_orientation(tmp_path, name, payload):
    image = read_jpeg(write(tmp_path, f"{name}.jpg", _with_app1(GOOD, payload)))
    assert image.shape == (512, 512, 3)
    assert np.abs(image.astype(int) - data.astronaut()).mean() < 4  # as it is, not turned


def test_a_valid_orientation_beside_garbage_tags_is_still_applied(tmp_path):
    payload = _exif([(0x0112, SHORT, 1, struct.pack("<HH", 6, 0)), (0x8769, 4, 1, struct.pack("<I", 0x7FFFFFFF))])
    path = write(tmp_path, "turned.jpg", _with_app1(jpeg_bytes(data.chelsea()), payload))
    assert read_jpeg(path).shape == (451, 300, 3)


def _many_scans(count_of_copies: int) -> bytes:
    """A small progressive JPEG whose scans are repeated: thousands of scans, a few hundred kB."""
    small = jpeg_bytes(data.astronaut()[:64, :64], progressive=True)
    first, end = small.index(b"\xff\xda"), small.rindex(b"\xff\xd9")
    return small[:first] + small[first:end] * count_of_copies + b"\xff\xd9"


def test_thousands_of_progressive_scans_are_refused_before_decoding(tmp_path):
    scans_per_copy = _many_scans(1).count(b"\xff\xda")
    path = write(tmp_path, "scans.jpg", _many_scans(3000 // scans_per_copy))
    assert decode_error(path) == (f"scans.jpg has more than {MAX_SCANS} scans (cameras write at most about 20); "
                                  "decoding it would take far too long, so it is refused as damaged.")
    assert PROGRESSIVE.count(b"\xff\xda") <= 20  # what a real encoder writes: accepted
    assert read_jpeg(write(tmp_path, "progressive.jpg", PROGRESSIVE)).shape == (512, 512, 3)


JFIF_HEADER = GOOD[:GOOD.index(b"\xff", 2) + 4 + int.from_bytes(GOOD[4:6], "big") - 2]  # SOI + APP0


def test_megabytes_of_junk_where_a_marker_belongs_are_refused_at_once(tmp_path):
    zeros = write(tmp_path, "zeros.jpg", JFIF_HEADER + bytes(30_000_000))
    fill = write(tmp_path, "fill.jpg", JFIF_HEADER + b"\xff" * 30_000_000)
    for path in (zeros, fill):
        assert decode_error(path) == (f"{path.name} is a damaged JPEG file: it holds data that is not part "
                                      "of a picture where its next section should start.")


def test_zeros_after_the_first_scan_decode_in_one_bounded_pass(tmp_path):
    start_of_scan = GOOD.index(b"\xff\xda")
    scan_header = start_of_scan + 2 + int.from_bytes(GOOD[start_of_scan + 2:start_of_scan + 4], "big")
    path = write(tmp_path, "zeros-in-scan.jpg", GOOD[:scan_header] + bytes(30_000_000))
    assert read_jpeg(path).shape == (512, 512, 3)  # zeros are valid coded data: a flat picture


def test_files_larger_than_any_photo_are_refused_unread(tmp_path):
    path = write(tmp_path, "huge-file.jpg", GOOD)
    with open(path, "r+b") as f:
        f.truncate(MAX_FILE_BYTES + 1_000_000)  # sparse: no disk space, nothing to read
    assert decode_error(path) == ("huge-file.jpg is 151 MB; the largest supported photo file is 150 MB "
                                  "(the largest camera JPEGs are about 60 MB).")


def test_tens_of_thousands_of_tiny_sections_are_refused(tmp_path):
    comments = b"\xff\xfe\x00\x02" * 20_000
    path = write(tmp_path, "sections.jpg", GOOD[:2] + comments + GOOD[2:])
    assert decode_error(path) == ("sections.jpg is a damaged JPEG file: it has more than 10000 sections "
                                  "(a photo has a few dozen).")


# --- files that are not files: one `detect` batch ------------------------------------------

@pytest.fixture(scope="module")
def strange_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("strange")
    files = {"a": write(folder, "a.jpg", GOOD), "b": write(folder, "b.jpg", jpeg_bytes(data.coffee()))}
    files["fifo"] = folder / "fifo.jpg"
    os.mkfifo(files["fifo"])
    files["socket"] = folder / "socket.jpg"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(files["socket"]))  # the socket file stays after the socket closes
    files["loop"] = folder / "loop.jpg"
    files["loop"].symlink_to(files["loop"])
    files["dangling"] = folder / "dangling.jpg"
    files["dangling"].symlink_to(folder / "gone.jpg")
    files["folder"] = folder / "folder.jpg"
    files["folder"].mkdir()
    files["huge"] = write(folder, "huge.jpg", with_jpeg_size(GOOD, 65535, 65535))
    files["thin"] = write(folder, "thin.jpg", jpeg_bytes(np.full((5000, 1, 3), 90, np.uint8)))
    files["flat"] = write(folder, "flat.jpg", jpeg_bytes(np.full((1, 5000, 3), 90, np.uint8)))
    return files


STRANGE_MESSAGES = {
    "fifo": "fifo.jpg is not a regular file (a named pipe); only JPEG photo files can be opened.",
    "socket": "socket.jpg is not a regular file (a socket); only JPEG photo files can be opened.",
    "/dev/zero": "zero is not a regular file (a character device); only JPEG photo files can be opened.",
    "/dev/urandom": "urandom is not a regular file (a character device); only JPEG photo files can be opened.",
    "loop": "loop.jpg is a symbolic link that leads back to itself (a link loop), so there is no file to read.",
    "dangling": "dangling.jpg is a symbolic link to a file that does not exist.",
    "folder": "folder.jpg holds no JPEG photos.",  # a folder is looked into (detect FOLDER)
    "huge": "huge.jpg is 65535 × 65535 pixels (4295 megapixels); the largest supported photo has 120 megapixels.",
}


def test_a_batch_goes_on_past_every_kind_of_non_file_in_bounded_memory(strange_files):
    names = ["a", "fifo", "socket", "/dev/zero", "/dev/urandom", "loop", "dangling", "folder", "huge",
             "thin", "flat", "b"]
    paths = [strange_files.get(name, name) for name in names]
    run = cli("detect", "--json", *paths)
    assert run.returncode == 1  # some failed
    # Folders are listed before any photo is read: an empty one is said first.
    names.remove("folder")
    names.insert(0, "folder")
    assert [line["image"] for line in run.lines] == [str(strange_files.get(name, name)) for name in names]
    for name, line in zip(names, run.lines, strict=True):
        if name in STRANGE_MESSAGES:
            assert line == {"image": str(strange_files.get(name, name)), "error": STRANGE_MESSAGES[name]}
        else:  # the good photos, and the 1 x 5000 and 5000 x 1 ones, are processed
            assert "detections" in line, line
    print(f"peak {run.peak_mb:.0f} MB")
    assert run.peak_mb < 400  # nothing was decoded at 65535 x 65535, nothing read from /dev/zero


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions: nothing to refuse")
def test_an_unreadable_photo_is_one_message_in_the_batch(strange_files, tmp_path):
    locked = write(tmp_path, "locked.jpg", GOOD)
    locked.chmod(0)
    run = cli("detect", "--json", strange_files["a"], locked, strange_files["b"])
    assert run.returncode == 1 and "detections" in run.lines[0] and "detections" in run.lines[2]
    assert run.lines[1]["error"] == "locked.jpg could not be read: you do not have permission to open it."


def test_one_pixel_wide_and_tall_photos_go_through_yolov5(strange_files, random_weights, tmp_path):
    run = cli("detect", "--detector", "yolov5", "--weights", random_weights, "--json", "--output", tmp_path,
              strange_files["thin"], strange_files["flat"])
    assert run.returncode == 0, run.stdout
    assert [(line["width"], line["height"]) for line in run.lines] == [(1, 5000), (5000, 1)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flat-objects.jpg", "thin-objects.jpg"]


def test_the_largest_photo_with_output_stays_within_its_memory_bound(tmp_path):
    """120 MP (12000 x 10000): one decoded copy is 360 MB; decoding holds Pillow's image
    (4 bytes a pixel) and the array (3), 840 MB, and drawing and saving no more."""
    path = tmp_path / "largest.jpg"
    subprocess.run([sys.executable, "-c",  # made in a child, so this process stays small
                    "import cv2, numpy as np, sys\n"
                    "image = np.full((10000, 12000, 3), 128, np.uint8); image[::50] = 30\n"
                    "cv2.imwrite(sys.argv[1], image, [cv2.IMWRITE_JPEG_QUALITY, 50])\n", str(path)],
                   check=True, timeout=60)
    run = cli("detect", "--json", "--output", tmp_path / "boxed.jpg", path)
    assert run.returncode == 0 and run.lines[0]["width"] == 12000
    with warnings.catch_warnings():  # Pillow's own warning about images this big: the header only is read
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        assert Image.open(tmp_path / "boxed.jpg").size == (12000, 10000)
    print(f"peak {run.peak_mb:.0f} MB")
    assert run.peak_mb < 1100


# --- outputs: nothing of the user's is ever overwritten -----------------------------------

@pytest.fixture
def photo(tmp_path):
    return write(tmp_path, "photo.jpg", GOOD)


def test_an_existing_output_file_is_replaced_only_with_overwrite(photo, tmp_path):
    existing = write(tmp_path, "boxed.jpg", b"the user's own file")
    run = cli("detect", "--json", "--output", existing, photo)
    assert run.returncode == 1
    assert run.lines == [{"image": str(photo), "error": f"{existing} already exists; add --overwrite to replace "
                                                        "it, or choose another name."}]
    assert existing.read_bytes() == b"the user's own file"
    run = cli("detect", "--json", "--overwrite", "--output", existing, photo)
    assert run.returncode == 0 and Image.open(existing).size == (512, 512) and temporaries(tmp_path) == []


def test_a_hard_link_to_the_input_is_the_input_even_with_overwrite(photo, tmp_path):
    alias = tmp_path / "alias.jpg"
    os.link(photo, alias)
    before = digest(photo)
    run = cli("detect", "--json", "--overwrite", "--output", alias, photo)
    assert run.returncode == 1
    assert run.lines[0]["error"] == f"{alias} is the input photo.jpg: writing it would destroy it. Choose another name."
    assert digest(photo) == before


def test_folder_outputs_take_unused_names_and_leave_lookalikes_alone(photo, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    mine = {name: f"user data {name}".encode() for name in (
        "photo-faces.jpg", ".photo-faces.jpg.partial", f"{outputs.TEMP_PREFIX}photo-faces-x{outputs.TEMP_SUFFIX}.jpg")}
    for name, content in mine.items():
        write(out, name, content)
    other = tmp_path / "other"
    other.mkdir()
    twin = write(other, "photo.jpg", jpeg_bytes(data.coffee()))  # the same name from another folder
    run = cli("detect", "--json", "--output", out, photo, twin)
    assert run.returncode == 0
    for name, content in mine.items():
        assert (out / name).read_bytes() == content
    new = sorted(set(p.name for p in out.iterdir()) - set(mine))
    assert new == ["photo-faces-2.jpg", "photo-faces-3.jpg"]


def test_outputs_that_cannot_be_written_are_per_image_messages(photo, tmp_path):
    run = cli("detect", "--json", "--output", tmp_path / "missing" / "boxed.jpg", photo)
    assert run.returncode == 1
    assert run.lines[0]["error"] == (f"The folder {tmp_path / 'missing'} does not exist, "
                                     "so boxed.jpg cannot be written there.")
    blocker = write(tmp_path, "a-file", b"not a folder")
    run = cli("detect", "--json", "--output", blocker / "sub", photo, photo)
    assert run.returncode == 1 and len(run.lines) == 2
    assert all(line["error"].startswith(f"The output folder {blocker / 'sub'} cannot be made: ")
               for line in run.lines)
    assert blocker.read_bytes() == b"not a folder"


# --- video ----------------------------------------------------------------------------

@pytest.fixture
def video(clip, tmp_path):
    copy = tmp_path / "clip.avi"
    copy.write_bytes(clip.read_bytes())
    return copy


@pytest.mark.parametrize("case", ["jsonl-is-source", "output-hard-link", "output-is-jsonl", "output-exists"])
def test_video_outputs_that_would_destroy_something_are_refused(video, tmp_path, case):
    alias = tmp_path / "alias.avi"
    os.link(video, alias)
    existing = write(tmp_path, "done.avi", b"yesterday's video")
    options = {"jsonl-is-source": ["--jsonl", video],
               "output-hard-link": ["--overwrite", "--output", alias],
               "output-is-jsonl": ["--output", tmp_path / "x.avi", "--jsonl", tmp_path / "x.avi"],
               "output-exists": ["--output", existing]}[case]
    before = digest(video)
    run = cli("video", video, "--weights", "no-model-needed.pt", *options)
    assert run.returncode == 1
    message = {"jsonl-is-source": f"{video} is the input clip.avi: writing it would destroy it.",
               "output-hard-link": f"{alias} is the input clip.avi: writing it would destroy it.",
               "output-is-jsonl": f"{tmp_path / 'x.avi'} is given twice as an output; each needs its own name.",
               "output-exists": f"{existing} already exists; add --overwrite to replace it"}[case]
    assert run.stderr.startswith(f"lwface-desktop: {message}")
    assert digest(video) == before and existing.read_bytes() == b"yesterday's video"
    assert not (tmp_path / "x.avi").exists() and temporaries(tmp_path) == []


def test_a_named_pipe_as_video_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "stream.avi"
    os.mkfifo(fifo)
    run = cli("video", fifo, "--weights", "no-model-needed.pt")  # refused before the model loads
    assert run.returncode == 1
    assert run.stderr.strip() == ("lwface-desktop: stream.avi is not a regular file (a named pipe); "
                                  "only video files can be opened.")


@pytest.fixture(scope="module")
def giant_video(tmp_path_factory):
    """Two 8192 x 8192 MJPG frames, written in a child process (it needs 700 MB)."""
    path = tmp_path_factory.mktemp("giant") / "giant.avi"
    subprocess.run([sys.executable, "-c",
                    "import cv2, numpy as np, sys\n"
                    "w = cv2.VideoWriter(sys.argv[1], cv2.VideoWriter_fourcc(*'MJPG'), 5, (8192, 8192))\n"
                    "frame = np.zeros((8192, 8192, 3), np.uint8)\n"
                    "w.write(frame); w.write(frame); w.release()\n", str(path)], check=True, timeout=60)
    return path


def test_giant_video_frames_are_refused_before_decoding(giant_video, random_weights, tmp_path):
    run = cli("video", giant_video, "--weights", random_weights, "--output", tmp_path / "out.avi")
    assert run.returncode == 1
    assert run.stderr.strip() == ("lwface-desktop: giant.avi has frames of 8192 × 8192 pixels; the largest "
                                  "supported video frame is 4096 × 4096 pixels (16.8 megapixels).")
    assert list(tmp_path.iterdir()) == []
    print(f"peak {run.peak_mb:.0f} MB")
    assert run.peak_mb < 1024  # one decoded frame alone would be 200 MB, the pipeline's copies 1.6 GB


@pytest.fixture
def long_clip(tmp_path):
    """400 small frames: far more than the detector gets through before the signal."""
    path = tmp_path / "long.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 15, (160, 120))
    small = cv2.resize(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR), (160, 120))
    for _ in range(400):
        writer.write(small)
    writer.release()
    return path


def test_sigterm_during_video_finishes_playable_files(long_clip, random_weights, tmp_path):
    out, lines = tmp_path / "out.avi", tmp_path / "dets.jsonl"
    child = subprocess.Popen([sys.executable, "-m", "lwface_desktop", "video", long_clip, "--weights",
                              random_weights, "--output", out, "--jsonl", lines],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    watchdog = threading.Timer(60, child.kill)  # a safety net against a hang, not a measure
    watchdog.start()
    try:
        progress = b""
        while b" frames (" not in progress:  # the progress bar: frames are being processed
            chunk = os.read(child.stderr.fileno(), 4096)
            assert chunk, f"video ended before any progress: {progress!r}"
            progress += chunk
        child.send_signal(signal.SIGTERM)
        stdout, stderr = child.communicate()
    finally:
        watchdog.cancel()
    assert child.returncode == 128 + signal.SIGTERM, stderr
    assert b"Traceback" not in progress + stderr
    [summary] = [json.loads(line) for line in stdout.splitlines()]
    assert summary["stopped_by"] == "SIGTERM" and 1 <= summary["frames"] < 400
    written = cv2.VideoCapture(str(out))
    assert written.get(cv2.CAP_PROP_FRAME_COUNT) == summary["frames"]
    ok, frame = written.read()
    written.release()
    assert ok and frame.shape == (120, 160, 3)
    assert [json.loads(line)["frame"] for line in lines.read_text().splitlines()] == list(range(summary["frames"]))
    assert temporaries(tmp_path) == []


def test_hostile_photo_bytes_through_the_cli_are_messages(tmp_path):
    """A sample of the generated hostile photos in one `detect` run: each a message, none unexpected."""
    files = [write(tmp_path, "cut.jpg", GOOD[:len(GOOD) // 3]),
             write(tmp_path, "scans.jpg", _many_scans(400)),
             write(tmp_path, "exif.jpg", _with_app1(GOOD, _exif([], ifd_offset=0xFFFFFF00))),
             write(tmp_path, "zero-width.jpg", with_jpeg_size(GOOD, 0, 512)),
             write(tmp_path, "png.jpg", _png_bytes())]
    run = cli("detect", "--json", *files)
    assert run.returncode == 1
    errors = {os.path.basename(line["image"]): line.get("error") for line in run.lines}
    assert errors.pop("scans.jpg").startswith(f"scans.jpg has more than {MAX_SCANS} scans")
    assert errors == {"cut.jpg": "cut.jpg is not a complete JPEG file (it was cut short).",
                      "exif.jpg": None,  # decoded: broken EXIF is no orientation
                      "zero-width.jpg": "zero-width.jpg is a damaged JPEG file: its header gives a size of "
                                        "0 × 512 pixels.",
                      "png.jpg": "png.jpg is a PNG image, not a JPEG. Only JPEG photos are supported."}


def _png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(data.coffee()).save(buffer, "PNG")
    return buffer.getvalue()


def test_a_file_name_that_is_not_valid_text_is_printed_not_fatal(tmp_path):
    name = os.fsdecode(b"caf\xe9.jpg")  # Latin-1 bytes from another system
    path = write(tmp_path, name, GOOD)
    run = cli("detect", path, write(tmp_path, "b.jpg", GOOD))
    assert run.returncode == 0
    assert run.stdout.splitlines()[0].startswith(f"{tmp_path}/caf\\udce9.jpg: 1 face in ")
