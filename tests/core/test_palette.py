"""The class colours: faces red, every COCO class its own colour far from red and from the
others, the same in every run, labels readable on all of them."""

import itertools
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from skimage import data
from skimage.color import rgb2lab

from lwface_desktop.core.annotate import annotate
from lwface_desktop.core.detection import Detection
from lwface_desktop.core.palette import (
    BLACK,
    COCO_CLASSES,
    FACE_COLOUR,
    MIN_TEXT_CONTRAST,
    WHITE,
    colour_of,
    contrast,
    text_colour_on,
)
from lwface_desktop.core.pipeline import render

ROOT = Path(__file__).resolve().parents[2]  # this checkout's package, first on the path


def lab(colours) -> np.ndarray:
    return rgb2lab(np.array([colours], dtype=np.float64) / 255)[0]


def test_faces_are_red_and_no_class_looks_like_a_face():
    assert colour_of("face") == (255, 0, 0) == FACE_COLOUR
    classes = lab([colour_of(name) for name in COCO_CLASSES])
    assert np.linalg.norm(classes - lab([FACE_COLOUR])[0], axis=1).min() >= 60  # CIELAB distance


def test_every_coco_class_has_its_own_distinct_colour():
    colours = [colour_of(name) for name in COCO_CLASSES]
    assert len(set(colours)) == len(COCO_CLASSES) == 80
    points = lab(colours)
    distance = {(a, b): np.linalg.norm(points[a] - points[b]) for a, b in itertools.combinations(range(80), 2)}
    assert min(distance.values()) > 10  # no two classes alike (2.3 is a just-noticeable difference)
    # The classes photos show most come first in COCO's order: they are the most distinct.
    assert min(d for (a, b), d in distance.items() if b < 10) > 40


def test_colours_are_the_same_in_every_run():
    """Python's hash() of a string changes from run to run; the colours must not."""
    names = ["person", "dog", "toothbrush", "face", "forklift", "Ünïcode class"]
    script = ("import sys; from lwface_desktop.core.palette import colour_of; "
              "print([colour_of(n) for n in sys.argv[1:]])")
    runs = set()
    for seed in ("1", "2", "random"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        runs.add(subprocess.run([sys.executable, "-c", script, *names], env=env, check=True, cwd=ROOT,
                                capture_output=True, text=True).stdout)
    assert runs == {f"{[colour_of(n) for n in names]}\n"}


def test_classes_a_custom_model_names_get_colours_of_the_table_but_not_red():
    custom = [f"part-{i}" for i in range(200)]
    table = {colour_of(name) for name in COCO_CLASSES}
    assert {colour_of(name) for name in custom} <= table
    assert len({colour_of(name) for name in custom}) > 40  # spread over the table, not all one colour


def test_label_text_is_readable_on_every_colour():
    for colour in [FACE_COLOUR, *(colour_of(name) for name in COCO_CLASSES)]:
        text = text_colour_on(colour)
        assert contrast(text, colour) >= MIN_TEXT_CONTRAST
    assert text_colour_on(FACE_COLOUR) == WHITE  # faces keep their white labels
    assert text_colour_on((255, 255, 0)) == BLACK  # yellow is too light for white text


def test_each_detection_is_drawn_in_its_class_colour():
    image = data.astronaut()
    face = Detection(178, 74, 265, 161, 0.8, "face")
    person = Detection(30, 20, 480, 500, 0.9, "person")
    out = annotate(image, [face, person], labels=False)
    assert tuple(out[120, 178]) == FACE_COLOUR   # the face's left edge
    assert tuple(out[300, 30]) == colour_of("person") != FACE_COLOUR  # the person's left edge
    assert tuple(annotate(image, [person], labels=False, colour=(0, 0, 255))[300, 30]) == (0, 0, 255)
    # What the photo view, a saved file, the live tab and `video` show: render() draws the same.
    assert tuple(render(image, [face, person])[300, 30]) == colour_of("person")
    assert tuple(render(image, [face, person])[120, 178]) == FACE_COLOUR


def test_a_label_on_a_light_colour_is_written_in_black():
    image = data.coffee()
    light = next(name for name in COCO_CLASSES if text_colour_on(colour_of(name)) == BLACK)
    cup = Detection(100, 150, 400, 400, 0.9, light)
    plain = annotate(image, [cup], labels=False)
    labelled = annotate(image, [cup], labels=True)
    band = (slice(100, 148), slice(100, 400))  # just above the box: the label's tag
    changed = (labelled[band] != plain[band]).any(axis=2)
    tag = labelled[band][changed]
    assert (tag == colour_of(light)).all(axis=1).any()  # the tag in the class colour
    assert (tag < 60).all(axis=1).any()                 # and dark text on it
    assert not (tag > 240).all(axis=1).any()            # no white text
