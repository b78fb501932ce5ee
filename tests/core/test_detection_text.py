"""How counts are said: the status bar, the results panel's legend and the CLI."""

import pytest

from lwface_desktop.core.detection import Detection, count_text, summary_text
from lwface_desktop.core.palette import COCO_CLASSES as COCO_NAMES


@pytest.mark.parametrize(("n", "label", "said"), [
    (0, "face", "no faces"), (1, "face", "1 face"), (3, "face", "3 faces"), (2, "person", "2 people"),
    (6, "wine glass", "6 wine glasses"), (2, "bus", "2 buses"), (3, "bench", "3 benches"),
    (2, "toothbrush", "2 toothbrushes"), (2, "knife", "2 knives"), (2, "mouse", "2 mice"),
    (4, "sheep", "4 sheep"), (2, "skis", "2 skis"), (1, "scissors", "1 scissors"),
])
def test_counts_are_said_in_plain_english(n, label, said):
    assert count_text(n, label) == said


def test_no_coco_plural_doubles_its_last_letter():
    """The legend once said "6 wine glasss": no plural of the 80 classes ends in "ss" or "xs"."""
    for name in COCO_NAMES:
        assert not count_text(2, name).endswith(("sss", "shs", "chs", "xs")), name


def test_summary_names_each_kind():
    found = [Detection(0, 0, 1, 1, 0.9, "person"), Detection(0, 0, 1, 1, 0.8, "wine glass")]
    assert summary_text(found, "object") == "2 objects (1 × person, 1 × wine glass)"
