import shutil

import numpy as np
import pytest
from PIL import Image
from skimage import data

from lwface_desktop.core.images import ImageError, open_photo, read_jpeg, save_image, save_new
from tests.conftest import jpeg_bytes, temporaries
from tests.memory import run_python


def test_reads_a_real_photo_as_rgb_uint8(photos):
    image = read_jpeg(photos["astronaut"])
    assert image.shape == (512, 512, 3) and image.dtype == np.uint8
    # JPEG is lossy; a channel swap or a wrong decode would be far off.
    assert np.abs(image.astype(int) - data.astronaut()).mean() < 4


@pytest.mark.parametrize("suffix", [".jpeg", ".JPG", ".jpe", ".photo"])
def test_judges_by_content_not_extension(photos, tmp_path, suffix):
    renamed = tmp_path / f"astronaut{suffix}"
    shutil.copy(photos["astronaut"], renamed)
    assert read_jpeg(renamed).shape == (512, 512, 3)


def test_greyscale_jpeg_becomes_rgb(photos):
    image = read_jpeg(photos["camera"])
    assert image.shape == (512, 512, 3)
    assert (image[..., 0] == image[..., 1]).all() and (image[..., 1] == image[..., 2]).all()


def test_cmyk_jpeg_becomes_rgb(tmp_path):
    path = tmp_path / "print.jpg"
    Image.fromarray(data.astronaut()).convert("CMYK").save(path, quality=95)
    image = read_jpeg(path)
    assert image.shape == (512, 512, 3)
    assert np.abs(image.astype(int) - data.astronaut()).mean() < 8


def test_exif_orientation_is_applied(tmp_path):
    photo = data.chelsea()  # 300 x 451, not square, so a missed rotation shows in the shape
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    path = tmp_path / "rotated.jpg"
    path.write_bytes(jpeg_bytes(photo, exif=exif.tobytes()))
    image = read_jpeg(path)
    assert image.shape == (451, 300, 3)
    assert np.abs(image.astype(int) - np.rot90(photo, k=-1)).mean() < 4


@pytest.mark.parametrize("name, words", [
    ("png-renamed.jpg", "is a PNG image, not a JPEG"),
    ("empty.jpg", "is empty"),
    ("truncated.jpg", "truncated.jpg is not a complete JPEG file"),
    ("notes.jpg", "not an image"),
    ("huge.jpg", "400 megapixels"),
    ("missing.jpg", "was not found"),
    ("folder.jpg", "is a folder"),
])
def test_bad_files_give_a_readable_message(bad_files, name, words):
    with pytest.raises(ImageError, match=words) as caught:
        read_jpeg(bad_files[name])
    assert name in str(caught.value)


def test_huge_jpeg_is_refused_before_decoding(bad_files):
    """In a fresh process, whose peak is its own: this one's may be anything after earlier tests."""
    run = run_python(
        "import sys\n"
        "from lwface_desktop.core.images import ImageError, read_jpeg\n"
        "from tests.memory import start_measuring\n"
        "start_measuring()\n"
        "try:\n"
        "    read_jpeg(sys.argv[1])\n"
        "except ImageError as e:\n"
        "    print(e)\n", bad_files["huge.jpg"])
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == ("huge.jpg is 20000 × 20000 pixels (400 megapixels); "
                                  "the largest supported photo has 120 megapixels.")
    print(f"grew {run.growth_mb:.1f} MB above {run.baseline_mb:.0f} MB")
    assert run.growth_mb < 100  # decoding 20000 x 20000 would take 1.2 GB


@pytest.mark.parametrize("name", ["out.jpg", "out.PNG"])
def test_save_image_writes_a_readable_file(tmp_path, name):
    save_image(data.coffee(), tmp_path / name)
    assert Image.open(tmp_path / name).size == (600, 400)


def test_saved_files_hold_the_pixels_in_rgb_order(tmp_path):
    coffee = data.coffee()
    save_image(coffee, tmp_path / "out.png")
    with Image.open(tmp_path / "out.png") as png:
        assert np.array_equal(np.asarray(png), coffee)  # lossless, red still red
    save_image(coffee, tmp_path / "out.jpg")
    with Image.open(tmp_path / "out.jpg") as jpeg:
        error = np.abs(np.asarray(jpeg).astype(int) - coffee).mean()
    assert error < 3  # quality 92; red and blue swapped would be ~107


def test_a_picture_too_wide_for_jpeg_is_refused_in_words(tmp_path):
    with pytest.raises(ImageError, match="at most 65,500 pixels wide or high. Save it as PNG"):
        save_image(np.zeros((2, 70_000, 3), np.uint8), tmp_path / "panorama.jpg")
    assert list(tmp_path.iterdir()) == []


def test_save_image_refuses_unknown_extension_and_leaves_nothing(tmp_path):
    with pytest.raises(ImageError, match=r"\.jpg or \.png"):
        save_image(data.coffee(), tmp_path / "out.bmp")
    with pytest.raises(ImageError, match="The folder .*no-such-folder does not exist, so out.jpg cannot be"):
        save_image(data.coffee(), tmp_path / "no-such-folder" / "out.jpg")
    assert list(tmp_path.iterdir()) == []


def test_reduced_decode_keeps_the_full_size_and_orientation(photos, tmp_path):
    photo = open_photo(photos["astronaut-12mp"], min_side=896)
    assert (photo.width, photo.height) == (4032, 3024)
    assert photo.pixels.shape == (756, 1008, 3) and photo.scale == 0.25  # decoded at 1/4
    exif = Image.Exif()
    exif[0x0112] = 8  # "rotate 90 degrees counter-clockwise to display"
    rotated = tmp_path / "rotated.jpg"
    rotated.write_bytes(jpeg_bytes(read_jpeg(photos["astronaut-12mp"]), exif=exif.tobytes()))
    photo = open_photo(rotated, min_side=896)
    assert (photo.width, photo.height) == (3024, 4032) and photo.pixels.shape == (1008, 756, 3)


def test_small_photos_are_decoded_whole_even_when_reduction_is_asked(photos):
    photo = open_photo(photos["astronaut"], min_side=896)
    assert photo.pixels.shape == (512, 512, 3) and photo.scale == 1.0


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_turns_the_photo_as_pillow_does(tmp_path, orientation):
    from PIL import ImageOps

    photo = data.chelsea()[:90, :120]  # not square, so a wrong turn shows in the shape
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / f"o{orientation}.jpg"
    path.write_bytes(jpeg_bytes(photo, exif=exif.tobytes()))
    with Image.open(path) as img:
        expected = np.asarray(ImageOps.exif_transpose(img).convert("RGB"))
    decoded = open_photo(path)
    assert np.array_equal(decoded.pixels, expected)
    assert (decoded.height, decoded.width) == expected.shape[:2]


def test_save_image_never_replaces_a_file_unless_asked(tmp_path):
    from lwface_desktop.core.outputs import OutputError

    path = tmp_path / "out.jpg"
    path.write_bytes(b"the user's file")
    with pytest.raises(OutputError, match="out.jpg already exists") as caught:
        save_image(data.coffee(), path, overwrite=False)
    assert isinstance(caught.value, ImageError)  # callers catching either see it
    assert path.read_bytes() == b"the user's file"
    save_image(data.coffee(), path)  # the default: a save the user confirmed in a dialog
    assert Image.open(path).size == (600, 400)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.jpg"]  # no temporary left


def test_save_new_takes_the_next_free_name_and_never_replaces_one(tmp_path):
    coffee = data.coffee()
    (tmp_path / "photo-faces.jpg").write_bytes(b"mine")
    first = save_new(coffee, tmp_path, "photo-faces")
    second = save_new(coffee, tmp_path, "photo-faces", ".png")
    assert (first.name, second.name) == ("photo-faces-2.jpg", "photo-faces.png")
    assert (tmp_path / "photo-faces.jpg").read_bytes() == b"mine"
    assert Image.open(first).format == "JPEG" and Image.open(second).format == "PNG"


def test_save_new_moves_on_when_another_program_takes_the_name_meanwhile(tmp_path, monkeypatch):
    from lwface_desktop.core import images

    chosen = []

    def taken_as_soon_as_chosen(folder, stem, suffix):
        path = images_unused_path(folder, stem, suffix)
        if not chosen:  # another program writes this very name before ours is put in place
            path.write_bytes(b"theirs")
        chosen.append(path.name)
        return path

    images_unused_path = images.unused_path
    monkeypatch.setattr(images, "unused_path", taken_as_soon_as_chosen)
    saved = save_new(data.coffee(), tmp_path, "snapshot")
    assert chosen == ["snapshot.jpg", "snapshot-2.jpg"] and saved == tmp_path / "snapshot-2.jpg"
    assert (tmp_path / "snapshot.jpg").read_bytes() == b"theirs"
    assert Image.open(saved).size == (600, 400) and temporaries(tmp_path) == []


def test_save_new_says_a_full_disk_as_such(tmp_path, monkeypatch):
    import errno

    from lwface_desktop.core.outputs import DiskFull

    def full(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(type(tmp_path), "write_bytes", full)
    with pytest.raises(DiskFull, match="the disk is full"):
        save_new(data.coffee(), tmp_path, "photo")
    assert list(tmp_path.iterdir()) == []


def test_a_named_pipe_swapped_in_after_the_type_check_cannot_block(tmp_path, monkeypatch):
    import os
    import threading

    from lwface_desktop.core import images

    fifo = tmp_path / "photo.jpg"
    os.mkfifo(fifo)
    regular = tmp_path / "regular.jpg"
    regular.write_bytes(b"\xff\xd8\xff")
    real_stat = os.stat
    # The check sees a regular file; the open then finds the pipe.
    monkeypatch.setattr(images.os, "stat", lambda p, *a, **k: real_stat(regular if str(p) == str(fifo) else p))
    outcome = []
    reader = threading.Thread(target=lambda: outcome.append(_error_of(read_jpeg, fifo)), daemon=True)
    reader.start()
    reader.join(30)  # a safety net only: a blocking open would never return
    assert outcome == ["photo.jpg is not a regular file (a named pipe); only JPEG photo files can be opened."]


def _error_of(function, *args):
    try:
        function(*args)
    except ImageError as e:
        return str(e)
    return None
