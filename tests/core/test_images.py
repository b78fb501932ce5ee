import resource
import shutil

import numpy as np
import pytest
from PIL import Image
from skimage import data

from lwface_desktop.core.images import ImageError, open_photo, read_jpeg, save_image
from tests.conftest import jpeg_bytes


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
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(ImageError):
        read_jpeg(bad_files["huge.jpg"])
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert grown_kb < 100_000  # decoding 20000 x 20000 would take 1.2 GB


@pytest.mark.parametrize("name", ["out.jpg", "out.PNG"])
def test_save_image_writes_a_readable_file(tmp_path, name):
    save_image(data.coffee(), tmp_path / name)
    assert Image.open(tmp_path / name).size == (600, 400)


def test_save_image_refuses_unknown_extension_and_leaves_nothing(tmp_path):
    with pytest.raises(ImageError, match=r"\.jpg or \.png"):
        save_image(data.coffee(), tmp_path / "out.bmp")
    with pytest.raises(ImageError, match="Could not save"):
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
