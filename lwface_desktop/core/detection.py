"""The one result type every detector returns."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Detection:
    """One object found in an image.

    The box is (x1, y1, x2, y2) in pixels of the original image, x2/y2 exclusive;
    score is in [0, 1]; label is a class name such as "face" or "person".
    """

    x1: float
    y1: float
    x2: float
    y2: float
    score: float
    label: str
    # Points a detector also finds, in the same pixels: YuNet's eyes, nose tip, mouth corners.
    landmarks: tuple[tuple[float, float], ...] | None = None

    @property
    def box(self) -> tuple[float, float, float, float]:
        return (self.x1, self.y1, self.x2, self.y2)

    def scaled(self, factor: float) -> Detection:
        """The same detection with its box in pixels of an image factor times the size."""
        landmarks = None if self.landmarks is None else tuple((x * factor, y * factor) for x, y in self.landmarks)
        return replace(self, x1=self.x1 * factor, y1=self.y1 * factor,
                       x2=self.x2 * factor, y2=self.y2 * factor, landmarks=landmarks)

    def iou(self, other: Detection) -> float:
        """Intersection over union of the two boxes (0 when they do not overlap)."""
        w = min(self.x2, other.x2) - max(self.x1, other.x1)
        h = min(self.y2, other.y2) - max(self.y1, other.y1)
        if w <= 0 or h <= 0:
            return 0.0
        inter = w * h
        areas = (self.x2 - self.x1) * (self.y2 - self.y1) + (other.x2 - other.x1) * (other.y2 - other.y1)
        return inter / (areas - inter)

    def to_json(self) -> dict:
        """The CLI's JSON form: integer pixel box, score rounded to 4 places."""
        return {
            "label": self.label,
            "score": round(float(self.score), 4),
            "box": [round(v) for v in self.box],
        }


# COCO's labels whose plural is not label + "s" or "es" (the legend says "2 knives", not "2 knifes").
PLURALS = {"person": "people", "knife": "knives", "mouse": "mice", "sheep": "sheep", "skis": "skis",
           "scissors": "scissors"}


def plural(label: str) -> str:
    """'faces', 'people', 'wine glasses', 'buses', 'benches'."""
    if label in PLURALS:
        return PLURALS[label]
    return label + ("es" if label.endswith(("s", "sh", "ch", "x")) else "s")


def count_text(n: int, label: str) -> str:
    """'1 face', '3 faces', 'no faces', '2 people': for status lines and the CLI."""
    return f"{n or 'no'} {label if n == 1 else plural(label)}"


def summary_text(detections: list[Detection], label: str) -> str:
    """count_text, plus what they are when labels vary: '3 objects (2 × person, 1 × cup)'."""
    counts: dict[str, int] = {}
    for d in detections:
        counts[d.label] = counts.get(d.label, 0) + 1
    text = count_text(len(detections), label)
    if any(name != label for name in counts):
        text += " (" + ", ".join(f"{n} × {name}" for name, n in counts.items()) + ")"
    return text


class Detector:
    """What every detector offers: detect() on an RGB array, and detect_photo() on a
    Photo that may be a reduced decode (images.open_photo) of at least decode_side pixels."""

    label: str                # what one detection is called in a count ("face", "object")
    kind = ""                 # which detector, as detectors.KINDS names it ("yunet"): for the tables
    # The long side a photo must be decoded at for this detector's results to hold;
    # None: the full-resolution decode (a reduced JPEG decode would change them).
    decode_side: int | None = None

    def detect(self, image) -> list[Detection]:
        raise NotImplementedError

    def detect_photo(self, photo) -> list[Detection]:
        """Detections in a Photo, boxes in its full-resolution pixels."""
        return [d.scaled(1 / photo.scale) for d in self.detect(photo.pixels)]

    def lowest_score(self) -> float | None:
        """The score below which it reports nothing (its threshold), for the record; None if it has none."""
        return None
