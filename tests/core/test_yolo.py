"""YOLOv5: matches the official implementation, loads every checkpoint kind, and only safely."""

import json
import os
import pickle
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import torch
from skimage import data

from lwface_desktop.core.yolo import fused
from lwface_desktop.core.yolo.checkpoint import ModelError, load_checkpoint
from lwface_desktop.core.yolo.detector import YoloDetector
from lwface_desktop.core.yolo.model import YoloV5
from lwface_desktop.core.yolo.processing import letterbox
from tests.checkpoints import (
    architecture_of,
    p6_architecture_of,
    random_network,
    save_checkpoint,
    v5_architecture_of,
)
from tests.conftest import REFERENCE, WEIGHTS, iou, needs_weights


def reference_cases():
    if not REFERENCE.is_file():
        return []
    detections = json.loads(REFERENCE.read_text())["detections"]
    return [(photo, int(size), expected) for photo, sizes in detections.items() for size, expected in sizes.items()]


def photo_array(key: str) -> np.ndarray:
    return getattr(data, key.removeprefix("skimage.data.").removesuffix("()"))()


@pytest.fixture(scope="module")
def detectors():
    if not WEIGHTS.is_file():
        pytest.skip(f"no official weights at {WEIGHTS}")
    return {p: YoloDetector(WEIGHTS, precision=p) for p in ("fp32", "bf16")}


@needs_weights
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
@pytest.mark.parametrize("photo, size, expected", reference_cases(),
                         ids=[f"{p.split('.')[-1][:-2]}-{s}" for p, s, _ in reference_cases()])
def test_matches_the_official_implementation(detectors, precision, photo, size, expected):
    detector = detectors[precision]
    detector.img_size = size
    found = detector.detect(photo_array(photo))
    assert [d.label for d in found] == [e["label"] for e in expected]  # same classes, no extras
    assert detector.engine == ("fused" if fused.available() else "eager")
    for det, ref in zip(found, expected, strict=True):
        assert iou(det.box, ref["box_xyxy"]) >= 0.9
        # fp32: the bar, 1e-4 (the reference is rounded to 4 decimals; measured 4.9e-5).
        assert abs(det.score - ref["score"]) <= (1e-4 if precision == "fp32" else 0.03)


@needs_weights
def test_class_filter_conf_and_max_detections(detectors):
    detector = YoloDetector(WEIGHTS, img_size=320, precision="fp32")
    camera = data.camera()
    assert {d.label for d in detector.detect(camera)} == {"person", "car"}
    detector.classes = detector.class_ids(["person"])
    assert [d.label for d in detector.detect(camera)] == ["person"]
    detector.classes, detector.conf = None, 0.5
    assert [d.label for d in detector.detect(camera)] == ["person"]
    detector.conf, detector.max_detections = 0.25, 1
    assert len(detector.detect(camera)) == 1
    with pytest.raises(ValueError, match="unknown class unicorn"):
        detector.class_ids(["person", "unicorn"])
    with pytest.raises(ValueError, match="multiple of 32"):
        detector.img_size = 300


@needs_weights
def test_boxes_are_in_original_pixels_and_clipped(detectors):
    detector = detectors["fp32"]
    detector.img_size = 640
    wide = np.concatenate([data.chelsea()] * 3, axis=1)  # 1353 x 300: heavy letterboxing
    found = detector.detect(wide)
    cats = [d for d in found if d.label == "cat"]
    assert len(cats) == 3
    for det in found:
        assert 0 <= det.x1 < det.x2 <= 1353 and 0 <= det.y1 < det.y2 <= 300


def test_one_detector_serves_several_threads(random_weights):
    detector = YoloDetector(random_weights, precision="fp32", max_detections=20)
    images = [data.astronaut(), data.coffee(), data.chelsea()] * 2
    expected = [detector.detect(image) for image in images]
    assert all(len(found) == 20 for found in expected) and expected[0] != expected[1]
    with ThreadPoolExecutor(max_workers=3) as pool:
        assert list(pool.map(detector.detect, images)) == expected


def test_folding_batchnorm_keeps_the_output(random_weights):
    """random_weights has random BatchNorm statistics (tests.checkpoints.random_network): folding matters."""
    checkpoint = load_checkpoint(random_weights)
    unfused = YoloV5(checkpoint.architecture, checkpoint.strides)
    unfused.load_state_dict(checkpoint.state)
    unfused.eval()
    batch = torch.rand(1, 3, 320, 320)
    fused = YoloDetector(random_weights, img_size=320, precision="fp32").network
    with torch.inference_mode():
        expected = unfused(batch)
        got = fused(batch.contiguous(memory_format=torch.channels_last))

    def batch_norms(network):
        return sum(isinstance(m, torch.nn.BatchNorm2d) for m in network.modules())

    assert batch_norms(unfused) > 50 and batch_norms(fused) == 0
    assert torch.allclose(got[..., 4:], expected[..., 4:], atol=1e-3)  # scores
    assert torch.allclose(got[..., :4], expected[..., :4], atol=0.05)  # pixels


def test_letterbox_pads_to_a_multiple_of_32_with_grey():
    padded, fit = letterbox(data.coffee(), 640)  # 600 x 400 -> 640 x 427 -> 640 x 448
    assert padded.shape == (448, 640, 3)
    assert (fit.left, fit.top) == (0, 10) and fit.scale == pytest.approx(640 / 600)
    assert (padded[:10] == 114).all() and (padded[-11:] == 114).all()


@pytest.mark.parametrize("v7", [False, True], ids=["v6-Model", "v7-DetectionModel"])
@pytest.mark.parametrize("fused", [False, True], ids=["unfused", "fused"])
def test_custom_checkpoint_with_its_own_classes(tmp_path, v7, fused):
    names = ["apple", "banana", "cherry"]
    architecture = architecture_of(nc=3)
    network = random_network(architecture, [8, 16, 32])
    if fused:
        network.fuse()
    path = tmp_path / "fruit.pt"
    save_checkpoint(network, path, architecture, dict(enumerate(names)) if v7 else names, [8, 16, 32], v7=v7)
    detector = YoloDetector(path, img_size=320, precision="fp32", conf=0.0, max_detections=5)
    assert detector.names == names
    batch = torch.rand(1, 3, 320, 320)
    with torch.inference_mode():
        expected = network.half().float()(batch)  # the float16 weights the file holds
        got = detector.network(batch.contiguous(memory_format=torch.channels_last))
    assert got.shape == (1, 3 * (40 * 40 + 20 * 20 + 10 * 10), 8)
    assert torch.allclose(got[..., 4:], expected[..., 4:], atol=2e-3)
    assert {d.label for d in detector.detect(data.coffee())} <= set(names)


def test_p6_checkpoint_has_four_output_levels(tmp_path):
    architecture = p6_architecture_of(nc=80)
    path = tmp_path / "yolov5n6.pt"
    save_checkpoint(random_network(architecture, [8, 16, 32, 64]), path, architecture,
                    [f"class{i}" for i in range(80)], [8, 16, 32, 64])
    detector = YoloDetector(path, img_size=256, precision="fp32")
    assert detector.stride == 64
    with torch.inference_mode():
        out = detector.network(torch.rand(1, 3, 256, 256).contiguous(memory_format=torch.channels_last))
    assert out.shape == (1, 3 * (32 * 32 + 16 * 16 + 8 * 8 + 4 * 4), 85)
    with pytest.raises(ValueError, match="multiple of 64"):
        detector.img_size = 352


def test_v5_checkpoint_with_focus_spp_and_an_anchor_grid(tmp_path):
    """v5.0 files: a Focus stem, the parallel SPP, and Detect's anchor_grid buffer (derived from
    the anchors, so not needed) in the state dict."""
    architecture = v5_architecture_of(nc=80)
    network = random_network(architecture, [8, 16, 32])
    saved = random_network(architecture, [8, 16, 32])
    saved.load_state_dict(network.state_dict())
    saved.model[-1].register_buffer("anchor_grid", torch.ones(3, 1, 3, 1, 1, 2))
    path = tmp_path / "yolov5s-v5.0.pt"
    save_checkpoint(saved, path, architecture, [f"class{i}" for i in range(80)], [8, 16, 32])
    assert any(key.endswith("anchor_grid") for key in torch.load(path, weights_only=False)["model"].state_dict())
    detector = YoloDetector(path, img_size=320, precision="fp32")
    batch = torch.rand(1, 3, 320, 320)
    with torch.inference_mode():
        expected = network.half().float()(batch)
        got = detector.network(batch.contiguous(memory_format=torch.channels_last))
    assert got.shape == (1, 3 * (40 * 40 + 20 * 20 + 10 * 10), 85)
    assert torch.allclose(got[..., 4:], expected[..., 4:], atol=2e-3)


def test_model_problems_are_never_reported_as_a_wrong_input_size(tmp_path):
    """The CLI reports a ValueError from the constructor as a wrong --img-size: a bad model file
    must be a ModelError (not a ValueError), an impossible size a ValueError."""
    architecture = p6_architecture_of(nc=80)
    path = tmp_path / "yolov5n6.pt"
    save_checkpoint(random_network(architecture, [8, 16, 32, 64]), path, architecture,
                    [f"class{i}" for i in range(80)], [8, 16, 32])  # the strides of a P5 model
    with pytest.raises(ModelError) as caught:
        YoloDetector(path, img_size=640, precision="fp32")
    assert not isinstance(caught.value, ValueError)
    assert str(caught.value) == ("yolov5n6.pt is not a usable YOLOv5 model: its strides (8, 16, 32) do not match "
                                 "its architecture, whose outputs are at strides 8, 16, 32, 64.")


class _RunsCode:
    """Unpickling this calls os.system: what a malicious .pt does."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_checkpoint_that_would_run_code_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    torch.save({"model": _RunsCode(marker), "ema": None}, path)
    with pytest.raises(ModelError, match="evil.pt was refused: it asks to run .*system"):
        load_checkpoint(path)
    assert not marker.exists()
    # The file really does run code when loaded without restrictions: the test is meaningful.
    torch.load(path, weights_only=False)
    assert marker.exists()


def test_a_pickle_that_is_not_a_zip_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "legacy.pt"
    path.write_bytes(pickle.dumps(_RunsCode(marker)))
    with pytest.raises(ModelError, match="not a PyTorch model file"):
        load_checkpoint(path)
    assert not marker.exists()


def test_a_truncated_checkpoint_gives_a_clear_message(tmp_path, random_weights):
    path = tmp_path / "half.pt"
    path.write_bytes(random_weights.read_bytes()[: random_weights.stat().st_size // 2])
    with pytest.raises(ModelError, match="half.pt is (not a PyTorch model file|incomplete or damaged)"):
        load_checkpoint(path)


def test_another_models_state_dict_is_not_taken_for_yolov5(tmp_path):
    path = tmp_path / "resnet-ish.pt"
    torch.save(torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU()).state_dict(), path)
    with pytest.raises(ModelError, match="resnet-ish.pt is not a YOLOv5 detection checkpoint"):
        load_checkpoint(path)


def test_missing_and_folder_paths(tmp_path):
    with pytest.raises(ModelError, match="was not found"):
        load_checkpoint(tmp_path / "nothing.pt")
    with pytest.raises(ModelError, match="is a folder"):
        load_checkpoint(tmp_path)


@pytest.mark.parametrize("flags, expected", [
    ({"avx2", "amx_tile", "amx_bf16", "avx512_bf16"}, ("bf16", "this CPU has native bf16 (AMX)")),
    ({"avx2", "avx512_f", "avx512_bf16"}, ("bf16", "this CPU has native bf16 (AVX512-BF16)")),
    ({"avx2", "avx512_f", "avx512_vnni"}, ("fp32", "this CPU has no native bf16 (no AMX or AVX512-BF16)")),
    (set(), ("fp32", "this CPU has no native bf16 (no AMX or AVX512-BF16)")),
])
def test_auto_precision_follows_the_cpu_not_a_timing_race(monkeypatch, random_weights, flags, expected):
    from lwface_desktop.core.yolo import detector as module

    monkeypatch.setattr(module, "_cpu_flags", lambda: flags)
    assert module.auto_precision() == expected
    assert YoloDetector(random_weights, img_size=64, precision="auto").precision == expected[0]
