"""Where model files come from, and downloads that are verified and never half-written."""

import hashlib
import itertools
import threading

import pytest

from lwface_desktop.core import weights
from lwface_desktop.core.yolo.checkpoint import ModelError
from tests import model_server
from tests.model_server import ModelServer

MODEL_BYTES = b"pretend model weights " * 5000
SETTLE_S = 30  # generous: no test waits this long when it passes


@pytest.fixture
def places(tmp_path, monkeypatch):
    """Bundled and cache folders in tmp_path (model_server.no_model), no LWFACE_WEIGHTS."""
    cache = model_server.no_model(tmp_path, monkeypatch)
    return {"bundled": weights.resource_path("models", "yolov5n.pt"), "cache": cache / "yolov5n.pt",
            "env": tmp_path / "env.pt", "explicit": tmp_path / "mine.pt"}


def make(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_resolution_order(places, monkeypatch):
    with pytest.raises(ModelError, match="weights download yolov5n"):
        weights.resolve_weights()
    make(places["cache"])
    assert weights.resolve_weights() == places["cache"]
    make(places["bundled"])
    assert weights.resolve_weights() == places["bundled"]
    monkeypatch.setenv("LWFACE_WEIGHTS", str(make(places["env"])))
    assert weights.resolve_weights() == places["env"]
    assert weights.resolve_weights(make(places["explicit"])) == places["explicit"]


def test_wrong_paths_are_reported_not_skipped(places, monkeypatch):
    make(places["bundled"])
    with pytest.raises(ModelError, match="mine.pt was not found"):
        weights.resolve_weights(places["explicit"])
    monkeypatch.setenv("LWFACE_WEIGHTS", str(places["env"]))
    with pytest.raises(ModelError, match="LWFACE_WEIGHTS points to .*env.pt, which does not exist"):
        weights.resolve_weights()


@pytest.fixture
def serve():
    """serve(**options): a ModelServer of MODEL_BYTES, closed after the test."""
    servers = []

    def start(**options) -> ModelServer:
        servers.append(ModelServer(MODEL_BYTES, **options))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def official_is_our_bytes(monkeypatch):
    monkeypatch.setitem(weights.OFFICIAL, "yolov5n", hashlib.sha256(MODEL_BYTES).hexdigest())


def test_download_verifies_and_reports_progress(tmp_path, official_is_our_bytes, serve):
    seen = []
    path = weights.download("yolov5n", tmp_path, serve().url, progress=lambda d, t: seen.append((d, t)))
    assert path == tmp_path / "yolov5n.pt" and path.read_bytes() == MODEL_BYTES
    assert seen[-1] == (len(MODEL_BYTES), len(MODEL_BYTES)) and len(seen) > 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["yolov5n.pt"]


def test_a_file_that_is_not_the_official_one_is_not_kept(tmp_path, monkeypatch, serve):
    monkeypatch.setitem(weights.OFFICIAL, "yolov5n", "0" * 64)
    with pytest.raises(ModelError, match="not the official file"):
        weights.download("yolov5n", tmp_path, serve().url)
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_download_leaves_nothing_that_looks_valid(tmp_path, official_is_our_bytes, serve):
    with pytest.raises(ModelError, match="stopped early"):
        weights.download("yolov5n", tmp_path, serve(cut_short=True).url)
    assert list(tmp_path.iterdir()) == []


def test_no_network_says_so(tmp_path):
    with pytest.raises(ModelError, match="no connection to the internet"):
        weights.download("yolov5n", tmp_path, f"http://127.0.0.1:{model_server.closed_port()}/", timeout=5)
    assert list(tmp_path.iterdir()) == []


def test_unknown_model_name(tmp_path):
    with pytest.raises(ModelError, match="Unknown model 'yolov9'"):
        weights.download("yolov9", tmp_path)


def test_a_cancelled_download_stops_and_keeps_nothing(tmp_path, official_is_our_bytes, serve):
    cancel = threading.Event()  # a plain flag: looked at before each read
    seen = []

    def progress(done, total):
        seen.append(done)
        cancel.set()  # the user presses Cancel after the first read

    with pytest.raises(weights.DownloadCancelled, match="cancelled; nothing was kept"):
        weights.download("yolov5n", tmp_path, serve().url, progress=progress, cancel=cancel)
    assert len(seen) == 1 and seen[0] < len(MODEL_BYTES)  # it stopped before the next read
    assert list(tmp_path.iterdir()) == []


def in_thread(fn, *args, **kwargs) -> tuple[threading.Thread, list]:
    """fn(*args, **kwargs) on a thread of its own; what it returned or raised lands in the list."""
    outcome: list = []

    def run():
        try:
            outcome.append(fn(*args, **kwargs))
        except Exception as e:  # looked at on the test's thread
            outcome.append(e)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def test_cancel_ends_a_download_at_once_while_the_server_sends_nothing(tmp_path, official_is_our_bytes, serve):
    """A stalled server (first part sent, then silence): Cancel cuts the connection, so the read
    that waits for the server returns at once, not at the socket's timeout."""
    server = serve(held=True, first_part=1000)
    cancel, arrived = weights.Cancel(), threading.Event()
    thread, outcome = in_thread(weights.download, "yolov5n", tmp_path, server.url,
                                progress=lambda done, total: arrived.set(), timeout=3600, cancel=cancel)
    assert arrived.wait(SETTLE_S) and server.stalled.wait(SETTLE_S)
    cancel.set()
    thread.join(SETTLE_S)  # an hour before the socket's timeout would end it
    assert not thread.is_alive() and server.held
    [error] = outcome
    assert isinstance(error, weights.DownloadCancelled)
    assert list(tmp_path.iterdir()) == []  # no temporary file left


def test_a_stalled_download_ends_with_words(tmp_path, official_is_our_bytes, serve):
    with pytest.raises(ModelError, match=r"stalled: nothing arrived for 3 seconds, so it was stopped"):
        weights.download("yolov5n", tmp_path, serve(held=True, first_part=1000).url, timeout=3)
    assert list(tmp_path.iterdir()) == []


def test_a_trickle_is_stopped_as_too_slow(tmp_path, official_is_our_bytes, serve):
    """A server sending a little now and then resets the socket's timeout each time: the rate
    over a window ends it. The clock is driven: each look at it is 40 s later."""
    clock = itertools.count(0, 40).__next__
    with pytest.raises(ModelError, match=r"too slow \(under 8 KB/s for 30 seconds\)"):
        weights.download("yolov5n", tmp_path, serve(held=True, first_part=1000).url, clock=clock)
    assert list(tmp_path.iterdir()) == []


def test_two_downloads_into_one_folder_at_once_both_keep_the_official_file(tmp_path, official_is_our_bytes,
                                                                           serve):
    """Two app instances (or the app and `weights download`) at once: each writes a temporary
    file of its own, and what is moved into place is verified as written."""
    server = serve(held=True, first_part=1000)
    started = [threading.Event(), threading.Event()]
    runs = [in_thread(weights.download, "yolov5n", tmp_path, server.url,
                      progress=lambda done, total, started=started: started.set())
            for started in started]
    assert all(event.wait(SETTLE_S) for event in started)  # both are under way, both got the first part
    temporary = [p.name for p in tmp_path.iterdir()]
    assert len(temporary) == 2 and "yolov5n.pt" not in temporary  # one temporary file each
    server.release()
    for thread, outcome in runs:
        thread.join(SETTLE_S)
        assert not thread.is_alive() and outcome == [tmp_path / "yolov5n.pt"]
    assert server.requests == 2
    assert [p.name for p in tmp_path.iterdir()] == ["yolov5n.pt"]
    assert weights.sha256(tmp_path / "yolov5n.pt") == weights.OFFICIAL["yolov5n"]


@pytest.mark.parametrize("length", ["abc", "-5", "1e6", ""])
def test_a_malformed_content_length_counts_as_not_known(tmp_path, official_is_our_bytes, serve, length):
    seen = []
    path = weights.download("yolov5n", tmp_path, serve(content_length=length).url,
                            progress=lambda done, total: seen.append(total))
    assert path.read_bytes() == MODEL_BYTES and set(seen) == {0}  # progress without a total


def test_a_server_sending_more_than_the_official_file_is_cut_off(tmp_path, official_is_our_bytes, monkeypatch,
                                                                 serve):
    monkeypatch.setitem(weights.OFFICIAL_BYTES, "yolov5n", len(MODEL_BYTES) - 1)
    with pytest.raises(ModelError, match="more than the official yolov5n.pt"):
        weights.download("yolov5n", tmp_path, serve().url)
    assert list(tmp_path.iterdir()) == []


def test_the_official_sizes_match_the_file_in_shared():
    from tests.conftest import WEIGHTS

    if not WEIGHTS.is_file():
        pytest.skip(f"missing the official yolov5n.pt at {WEIGHTS}")
    assert WEIGHTS.stat().st_size == weights.OFFICIAL_BYTES["yolov5n"]
    assert weights.sha256(WEIGHTS) == weights.OFFICIAL["yolov5n"]
    assert weights.size_text(weights.OFFICIAL_BYTES["yolov5n"]) == "3.9 MB"  # as the release page says


def test_nothing_found_is_a_model_missing_error_and_wrong_paths_are_not(places, monkeypatch):
    with pytest.raises(weights.ModelMissing):
        weights.resolve_weights()
    with pytest.raises(ModelError) as wrong:
        weights.resolve_weights(places["explicit"])
    assert not isinstance(wrong.value, weights.ModelMissing)  # a path given that is wrong: no download offer


def test_model_files_lists_what_exists_in_search_order(places, monkeypatch):
    assert weights.model_files() == []
    make(places["cache"])
    make(places["bundled"])
    monkeypatch.setenv("LWFACE_WEIGHTS", str(places["env"]))  # set, but no file there: not listed
    found = weights.model_files(make(places["explicit"]))
    assert [(f.where, f.path, f.size) for f in found] == [
        ("chosen file", places["explicit"], 1), ("bundled", places["bundled"], 1), ("cache", places["cache"], 1)]
    assert [(f.where, f.path) for f in weights.model_files(places["cache"])] == [
        ("chosen file, cache", places["cache"]), ("bundled", places["bundled"])]
