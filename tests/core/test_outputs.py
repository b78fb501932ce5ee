"""core.outputs: outputs compared with inputs by identity, and written under a temporary name."""

import errno
import os

import pytest

from lwface_desktop.core import outputs
from lwface_desktop.core.outputs import OutputError, check_outputs, writing
from tests.conftest import temporaries


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "input.jpg"
    path.write_bytes(b"the user's photo")
    return path


def test_an_output_that_is_an_input_by_any_name_is_refused(source, tmp_path):
    hard_link = tmp_path / "hard.jpg"
    os.link(source, hard_link)
    symlink = tmp_path / "soft.jpg"
    symlink.symlink_to(source)
    for output in (source, hard_link, symlink, tmp_path / "." / "input.jpg"):
        with pytest.raises(OutputError, match="is the input input.jpg: writing it would destroy it"):
            check_outputs([output], [source])
    check_outputs([tmp_path / "new.jpg", None], [source])  # a new name is fine


def test_two_outputs_naming_one_file_are_refused(source, tmp_path):
    with pytest.raises(OutputError, match="is given twice as an output"):
        check_outputs([tmp_path / "out.avi", tmp_path / "sub" / ".." / "out.avi"], [source])
    existing = tmp_path / "dets.jsonl"
    existing.write_text("")
    os.link(existing, tmp_path / "alias.jsonl")
    with pytest.raises(OutputError, match="given twice"):
        check_outputs([existing, tmp_path / "alias.jsonl"], [])


def test_writing_renames_into_place_only_when_complete(tmp_path):
    target = tmp_path / "out.jpg"
    with writing(target) as temp:
        assert temp.parent == tmp_path and temp != target and not target.exists()
        temp.write_bytes(b"done")
    assert target.read_bytes() == b"done" and temporaries(tmp_path) == []

    failed = tmp_path / "failed.jpg"
    with pytest.raises(RuntimeError), writing(failed) as temp:
        temp.write_bytes(b"half")
        raise RuntimeError("crash")
    assert not failed.exists() and temporaries(tmp_path) == []


def test_writing_never_replaces_an_existing_file_without_overwrite(tmp_path):
    target = tmp_path / "out.jpg"
    target.write_bytes(b"precious")
    with pytest.raises(OutputError, match="out.jpg already exists; choose another name"):
        with writing(target):
            pass
    late = tmp_path / "late.jpg"
    with pytest.raises(OutputError, match="already exists"):
        with writing(late) as temp:
            temp.write_bytes(b"ours")
            late.write_bytes(b"appeared meanwhile")  # another program was faster
    assert target.read_bytes() == b"precious" and late.read_bytes() == b"appeared meanwhile"
    with writing(target, overwrite=True) as temp:
        temp.write_bytes(b"replaced")
    assert target.read_bytes() == b"replaced" and temporaries(tmp_path) == []


def test_files_named_like_temporaries_are_never_touched(tmp_path):
    lookalikes = {name: f"user data {name}".encode() for name in (
        ".out.jpg.partial", f"{outputs.TEMP_PREFIX}out-{outputs.TEMP_SUFFIX}.jpg",
        f"{outputs.TEMP_PREFIX}out-abcdefgh{outputs.TEMP_SUFFIX}.jpg")}
    for name, content in lookalikes.items():
        (tmp_path / name).write_bytes(content)
    with writing(tmp_path / "out.jpg") as temp:
        assert temp.name not in lookalikes
        temp.write_bytes(b"new")
    for name, content in lookalikes.items():
        assert (tmp_path / name).read_bytes() == content


@pytest.mark.parametrize("code", [errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP])
def test_filesystems_without_hard_links_fall_back_to_a_checked_rename(tmp_path, monkeypatch, code):
    def no_links(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(outputs.os, "link", no_links)
    with writing(tmp_path / "out.jpg") as temp:
        temp.write_bytes(b"written")
    assert (tmp_path / "out.jpg").read_bytes() == b"written"
    with pytest.raises(OutputError, match="already exists"):
        with writing(tmp_path / "late.jpg") as temp:
            (tmp_path / "late.jpg").write_bytes(b"theirs")
    assert (tmp_path / "late.jpg").read_bytes() == b"theirs" and temporaries(tmp_path) == []


def test_folders_that_cannot_take_the_file_are_said_plainly(tmp_path):
    with pytest.raises(OutputError, match=r"The folder .*missing does not exist, so out.jpg cannot be written"):
        with writing(tmp_path / "missing" / "out.jpg"):
            pass
    (tmp_path / "a-file").write_text("not a folder")
    with pytest.raises(OutputError, match="a-file is not a folder, so out.jpg cannot be written there"):
        with writing(tmp_path / "a-file" / "out.jpg"):
            pass
    (tmp_path / "folder.jpg").mkdir()
    with pytest.raises(OutputError, match="folder.jpg is a folder; give the name of a file"):
        with writing(tmp_path / "folder.jpg", overwrite=True):
            pass


def test_a_very_long_name_still_gets_a_temporary_beside_it(tmp_path):
    target = tmp_path / ("x" * 240 + ".jpg")
    with writing(target) as temp:
        temp.write_bytes(b"ok")
    assert target.read_bytes() == b"ok"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders, so there is nothing to refuse")
def test_a_read_only_folder_is_said_plainly(tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o500)
    try:
        with pytest.raises(OutputError, match="You do not have permission to write in the folder"):
            with writing(folder / "out.jpg"):
                pass
    finally:
        folder.chmod(0o700)


def test_overwrite_never_replaces_a_device_or_a_pipe(tmp_path):
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    for special in (fifo, "/dev/null"):
        with pytest.raises(OutputError, match="is not a regular file, so it is not replaced"):
            with writing(special, overwrite=True):
                pass
    assert os.path.exists("/dev/null") and temporaries(tmp_path) == []


def test_written_files_get_the_usual_permissions_and_a_replaced_file_keeps_its_own(tmp_path):
    """Not mkstemp's owner-only 0600: a shared folder or a web server must still read results."""
    previous = os.umask(0o022)
    try:
        fresh = tmp_path / "fresh.jpg"
        with writing(fresh) as temp:
            temp.write_bytes(b"new")
        assert fresh.stat().st_mode & 0o777 == 0o644
        kept = tmp_path / "kept.jpg"
        kept.write_bytes(b"old")
        kept.chmod(0o640)
        with writing(kept, overwrite=True) as temp:
            temp.write_bytes(b"new")
        assert kept.read_bytes() == b"new" and kept.stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(previous)
