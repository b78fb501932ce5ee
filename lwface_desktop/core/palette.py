"""One colour per kind of thing found, the same in every photo, every run, both tabs and saved files.

Faces are red, as they always were. The 80 COCO classes (YOLOv5's) each have their own colour
from a fixed table, so "dog" is the same orange today and after an upgrade. The table was made
once by farthest-point sampling in CIELAB: from an RGB grid (steps of 15), keep colours with
some chroma (>= 35), mid lightness (L 40-88: visible on dark and light photos), away from red
(Lab distance >= 60, hue outside 345-55 degrees); then repeatedly take the colour farthest from
red and from every colour taken so far. The first classes (person, bicycle, car, …, the ones
photos show most) so get the most distinct colours. A class no table knows (a custom model's)
gets a table colour by a CRC of its name: stable across runs, unlike Python's salted hash().
"""

from __future__ import annotations

import zlib

Colour = tuple[int, int, int]  # RGB, 0-255

FACE_COLOUR: Colour = (255, 0, 0)
WHITE: Colour = (255, 255, 255)
BLACK: Colour = (0, 0, 0)
MIN_TEXT_CONTRAST = 3.0  # white labels down to this WCAG contrast (red's is 4.0); black text below it

COCO_CLASSES = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
    "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
    "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
    "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
    "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
    "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard",
    "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase",
    "scissors", "teddy bear", "hair drier", "toothbrush",
)

# In COCO_CLASSES' order, most distinct first (see the module's docstring for how they were chosen).
TABLE = (
    "#00ff00", "#3c3cff", "#3ce1ff", "#787800", "#d269a5", "#0078e1", "#00d287", "#ff00e1", "#ffa500",
    "#c3e100", "#ffd296", "#0f785a", "#c378ff", "#3ca500", "#b4693c", "#c3b4ff", "#b4e178", "#0087b4",
    "#b40096", "#695a96", "#c300ff", "#78e1c3", "#f0d24b", "#00f069", "#3c69ff", "#2d781e", "#961ec3",
    "#87f02d", "#ffb4e1", "#694bb4", "#78a569", "#b47800", "#ff69e1", "#00a5a5", "#78c3ff", "#87a500",
    "#ffa569", "#5a692d", "#f096f0", "#b4965a", "#ff00b4", "#9687f0", "#785a1e", "#a54ba5", "#78e169",
    "#b4e1a5", "#b4b44b", "#00965a", "#00a5ff", "#e15aff", "#965aff", "#874b78", "#00d20f", "#6987d2",
    "#0ff0c3", "#00b44b", "#a5e14b", "#00f0f0", "#b487c3", "#e1b45a", "#ffd200", "#87f0a5", "#b49600",
    "#69b45a", "#e1e196", "#00b496", "#780fff", "#d2e15a", "#1e69a5", "#c3c300", "#005ad2", "#78963c",
    "#00b4e1", "#871ee1", "#e13ca5", "#f0a53c", "#4b6900", "#d21ec3", "#5a961e", "#d200e1",
)
_COLOURS: tuple[Colour, ...] = tuple((int(h[1:3], 16), int(h[3:5], 16), int(h[5:7], 16)) for h in TABLE)
_COCO_INDEX = {name: i for i, name in enumerate(COCO_CLASSES)}


def colour_of(label: str) -> Colour:
    """The colour boxes of this class are drawn in: red for "face", the table's for a COCO
    class, and for any other name a table colour chosen by the name alone."""
    if label == "face":
        return FACE_COLOUR
    index = _COCO_INDEX.get(label)
    if index is None:
        index = zlib.crc32(label.encode("utf-8")) % len(_COLOURS)
    return _COLOURS[index]


def text_colour_on(colour: Colour) -> Colour:
    """White or black: what a label's text is written in on a background of colour. White
    where it reads well enough (as on the red of faces), black on the light colours."""
    return WHITE if contrast(WHITE, colour) >= MIN_TEXT_CONTRAST else BLACK


def contrast(a: Colour, b: Colour) -> float:
    """WCAG 2 contrast ratio of two sRGB colours: 1 (the same) to 21 (black on white)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _luminance(colour: Colour) -> float:
    def linear(v: int) -> float:
        c = v / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(v) for v in colour)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def hex_colour(colour: Colour) -> str:
    """"#rrggbb", for style sheets and rich text."""
    return "#{:02x}{:02x}{:02x}".format(*colour)
