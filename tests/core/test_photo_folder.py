"""collect_photos on real folders: JPEGs found recursively in natural order, the rest skipped with
a reason in words, links and loops handled, bounded."""

import os
import shutil

import pytest

from lwface_desktop.core import photo_folder
from lwface_desktop.core.photo_folder import MAX_DEPTH, collect_photos, natural_key


@pytest.fixture
def mixed(tmp_path, photos, bad_files):
    """A folder as people have them: photos in subfolders, other files beside them."""
    root = tmp_path / "holiday"
    (root / "day 2").mkdir(parents=True)
    (root / "day 10").mkdir()
    shutil.copy(photos["astronaut"], root / "IMG_10.jpg")
    shutil.copy(photos["coffee"], root / "IMG_2.JPG")
    shutil.copy(photos["chelsea"], root / "day 2" / "cat.jpeg")
    shutil.copy(photos["camera"], root / "day 10" / "camera.jpg")
    shutil.copy(bad_files["notes.jpg"], root / "day 10" / "notes.txt")
    (root / "clip.mp4").write_bytes(b"not a photo")
    (root / ".thumbnails").mkdir()
    shutil.copy(photos["astronaut"], root / ".thumbnails" / "small.jpg")
    return root


def test_a_folder_gives_its_jpegs_in_natural_order_and_the_rest_with_reasons(mixed):
    found = collect_photos([mixed])
    assert [p.relative_to(mixed).as_posix() for p in found.photos] == [
        "day 2/cat.jpeg", "day 10/camera.jpg", "IMG_2.JPG", "IMG_10.jpg"]
    assert {(s.path.relative_to(mixed).as_posix(), s.reason) for s in found.skipped} == {
        (".thumbnails", "hidden"), ("clip.mp4", "not a JPEG"), ("day 10/notes.txt", "not a JPEG")}
    assert found.skipped_count == 3 and found.more_than == 0
    assert found.summary() == "4 photos, 3 skipped"


def test_files_and_folders_mixed_in_one_drop_each_listed_once(mixed):
    found = collect_photos([mixed / "IMG_10.jpg", mixed, mixed / "IMG_10.jpg"])
    assert found.photos[0] == mixed / "IMG_10.jpg"
    assert len(found.photos) == 4 and found.photos.count(mixed / "IMG_10.jpg") == 1


def test_a_link_loop_and_a_dangling_link_are_skipped_and_a_linked_folder_walked_once(mixed):
    os.symlink(mixed, mixed / "day 2" / "back up")  # a folder link back to the top: a loop
    os.symlink(mixed / "gone.jpg", mixed / "dangling.jpg")
    os.symlink(mixed / "self.jpg", mixed / "self.jpg")
    found = collect_photos([mixed])
    assert len(found.photos) == 4
    reasons = {s.path.name: s.reason for s in found.skipped}
    assert reasons["dangling.jpg"] == "a link to nothing"
    assert reasons["self.jpg"] == "a link loop"


def test_an_unreadable_folder_is_skipped_with_its_reason(mixed, monkeypatch):
    locked = mixed / "day 2"
    locked.chmod(0)
    if os.geteuid() == 0:  # root reads every folder: the refusal a user gets, from the same call
        scandir = os.scandir

        def refusing(path):
            if os.fspath(path) == str(locked):
                raise PermissionError(13, "Permission denied", str(path))
            return scandir(path)

        monkeypatch.setattr(os, "scandir", refusing)
    try:
        found = collect_photos([mixed])
    finally:
        locked.chmod(0o755)
    assert (locked, "unreadable folder: permission denied") in {(s.path, s.reason) for s in found.skipped}
    assert len(found.photos) == 3


def test_a_named_pipe_and_a_missing_path_are_skipped(tmp_path):
    os.mkfifo(tmp_path / "pipe.jpg")
    found = collect_photos([tmp_path, tmp_path / "missing.jpg"])
    assert found.photos == []
    assert {s.path.name: s.reason for s in found.skipped} == {
        "pipe.jpg": "not a regular file (a named pipe)",
        "missing.jpg": "cannot be read: no such file or directory"}


def test_the_count_is_bounded_and_says_so(tmp_path, photos):
    for i in range(12):
        os.link(photos["coffee"], tmp_path / f"p{i}.jpg")  # hard links: twelve names, each listed
    found = collect_photos([tmp_path], limit=5)
    assert [p.name for p in found.photos] == ["p0.jpg", "p1.jpg", "p2.jpg", "p3.jpg", "p4.jpg"]
    assert found.more_than == 5 and "only the first 5" in found.summary()


def test_natural_key():
    assert sorted(["b10", "B2", "a1", "b1"], key=natural_key) == ["a1", "b1", "B2", "b10"]


def test_folders_too_deep_are_skipped_not_a_crash(tmp_path, photos):
    deep = tmp_path
    for _ in range(MAX_DEPTH + 5):
        deep = deep / "d"
    deep.mkdir(parents=True)
    shutil.copy(photos["coffee"], deep / "buried.jpg")
    shutil.copy(photos["coffee"], tmp_path / "top.jpg")
    found = collect_photos([tmp_path])
    assert [p.name for p in found.photos] == ["top.jpg"]
    [skipped] = found.skipped
    assert skipped.reason == f"a folder more than {MAX_DEPTH} folders deep"


def test_the_names_looked_at_are_bounded(tmp_path, photos, monkeypatch):
    monkeypatch.setattr(photo_folder, "MAX_ENTRIES", 10)
    for i in range(30):
        (tmp_path / f"note{i}.txt").write_text("x")
    found = collect_photos([tmp_path])
    assert found.looked_at == 10 and found.skipped_count == 9  # the folder itself, then nine names
    assert found.summary() == "0 photos (only the first 10 files were looked at), 9 skipped"
