"""YuNetFaces on the harder set made from the dev set (benchmarks/hard_faces.py): small faces in
big canvases, tiles, grey, darker, tilted. The figures are those of `python -m benchmarks.face_eval`."""

import numpy as np
import pytest

from tests.conftest import SHARED

pytestmark = pytest.mark.skipif(not (SHARED / "faces" / "faces.json").is_file(),
                                reason=f"the face dev set is not at {SHARED / 'faces'}")


@pytest.fixture(scope="module")
def hard():
    from benchmarks.hard_faces import hard_set

    return hard_set()


@pytest.fixture(scope="module")
def results(hard):
    """Tallies ("all", "large") of YuNetFaces and of the plain call on the harder set."""
    from benchmarks.face_eval import PlainYuNet, detections, tallies
    from lwface_desktop.core.yunet import default_yunet

    return {name: tallies(detections(detector, hard), hard)
            for name, detector in (("ours", default_yunet()), ("plain", PlainYuNet()))}


def test_the_harder_set_is_what_it_says(hard):
    from benchmarks.hard_faces import LARGE

    assert len(hard) == 36 and sum(len(s.truth) for s in hard) == 430
    for sample in hard:
        height, width = sample.image.shape[:2]
        sides = sample.truth[:, 2] - sample.truth[:, 0]
        assert sample.image.dtype == np.uint8 and sample.image.ndim in (2, 3)
        assert (sample.truth[:, :2] >= -1).all() and (sample.truth[:, 2] <= width + 1).all()
        assert (sample.truth[:, 3] <= height + 1).all()
        if sample.name.startswith(("small", "tiled")):  # faces scaled down to 12-40 px, in a larger canvas
            assert 11.5 <= sides.min() and sides.max() <= 40.5 and max(height, width) >= 1300
            assert not (sides >= LARGE * max(height, width)).any()
    assert sum(s.image.ndim == 2 for s in hard) >= 9  # grey ones, passed as HxW arrays


def test_large_faces_of_the_harder_set(results):
    large = results["ours"]["large"]
    print(large)
    assert large.recall >= 0.95 and large.precision >= 0.96  # measured 0.976 and 0.988; the issue: 0.88 at 0.95


def test_all_faces_of_the_harder_set(results):
    every = results["ours"]["all"]
    print(every)
    assert every.recall >= 0.86 and every.precision >= 0.94  # measured 0.886 and 0.962; the issue: 0.55 at 0.92


def test_it_beats_the_plain_call(results):
    ours, plain = results["ours"], results["plain"]
    print("plain:", plain["large"], "|", plain["all"])
    assert ours["large"].recall >= plain["large"].recall and ours["large"].precision >= plain["large"].precision
    assert ours["all"].recall >= plain["all"].recall + 0.04  # measured: 0.886 against 0.826
    assert ours["all"].precision >= plain["all"].precision - 0.01  # and 0.962 against 0.965
