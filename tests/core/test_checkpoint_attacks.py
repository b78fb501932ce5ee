"""Hostile and broken checkpoints: every one is refused with a ModelError that names the file, in
words, with nothing in it run and in bounded memory. The files are made here (tiny: width 1/16,
or no weights at all where the case allows), so these tests need nothing from ../shared."""

from __future__ import annotations

import builtins
import collections
import copy
import functools
import importlib
import json
import math
import os
import pickle
import struct
import subprocess
import zipfile
from pathlib import Path

import pytest
import torch

from lwface_desktop.core import selftest
from lwface_desktop.core.errors import ModelError
from lwface_desktop.core.yolo import checkpoint as loader
from lwface_desktop.core.yolo.architecture import MAX_WEIGHTS, plan_architecture
from lwface_desktop.core.yolo.detector import YoloDetector
from lwface_desktop.core.yolo.model import YoloV5
from tests.checkpoints import (
    _official_class,
    architecture_of,
    edit_pickle,
    p6_architecture_of,
    random_network,
    rezip,
    tiny_architecture,
    write_checkpoint,
    zip_with_pickle,
)
from tests.memory import run_python

NAMES = ["apple", "banana", "cherry"]
STRIDES = [8, 16, 32]


@pytest.fixture(scope="module")
def weights() -> dict[str, torch.Tensor]:
    """A tiny network's state dict in float16, as official files store it."""
    network = random_network(tiny_architecture(3), STRIDES)
    return {k: v.half() if v.is_floating_point() else v for k, v in network.state_dict().items()}


@pytest.fixture(scope="module")
def good(tmp_path_factory, weights) -> Path:
    """A valid tiny checkpoint: the starting point of the damaged ones."""
    path = tmp_path_factory.mktemp("good") / "good.pt"
    write_checkpoint(path, tiny_architecture(3), NAMES, torch.tensor(STRIDES, dtype=torch.float32), weights)
    return path


def refused(path: Path, *, hostile: str | None = None) -> str:
    """The message a detector built from path is refused with, checked: a ModelError (which is
    not a ValueError, that the CLI would report as a wrong --img-size) naming the file, in one
    plain line that repeats nothing hostile."""
    with pytest.raises(ModelError) as caught:
        YoloDetector(path, precision="fp32", threads=1)
    message = str(caught.value)
    assert type(caught.value) is ModelError and not isinstance(caught.value, ValueError)
    assert path.name in message, message
    assert "\n" not in message and "Traceback" not in message and len(message) < 400, message
    if hostile:
        assert hostile not in message
    return message


class Reduce:
    """Pickles as a call of fn(*args), as a malicious .pt file does."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


# -- files that would run code ------------------------------------------------------------------

def _touch(marker: Path) -> str:
    return f"open({str(marker)!r}, 'w').close()"


CODE = {  # name -> payload that creates the marker file when unpickled without restrictions
    "os.system": lambda m: Reduce(os.system, f"touch {m}"),
    "eval": lambda m: Reduce(builtins.eval, _touch(m)),
    "exec": lambda m: Reduce(builtins.exec, _touch(m)),
    "subprocess.call": lambda m: Reduce(subprocess.call, ["touch", str(m)]),
    "subprocess.Popen": lambda m: Reduce(subprocess.Popen, ["touch", str(m)]),
    "import_module": lambda m: Reduce(importlib.import_module, "os"),
    "nested-pickle.loads": lambda m: Reduce(pickle.loads, pickle.dumps(Reduce(os.system, f"touch {m}"))),
    "functools.partial": lambda m: Reduce(functools.partial, os.system, f"touch {m}"),
    "builtins.getattr": lambda m: Reduce(builtins.getattr, Reduce(importlib.import_module, "os"), "system"),
    "torch.load": lambda m: Reduce(torch.load, str(m)),
    "compile": lambda m: Reduce(builtins.compile, _touch(m), "x", "exec"),
}


def _embedded(payload, where: str):
    """A plausible checkpoint with the payload hidden somewhere inside."""
    model = _official_class("models.yolo.Model")()
    architecture = tiny_architecture(3)
    model.__dict__.update(yaml=architecture, names=list(NAMES), stride=torch.tensor(STRIDES, dtype=torch.float32))
    if where == "top":
        return {"model": payload, "ema": None}
    if where == "architecture":
        architecture["nc"] = payload
    elif where == "names":
        model.names[1] = payload
    elif where == "module":
        model._modules["model"] = payload
    return {"model": model, "ema": None, "opt": payload if where == "options" else None}


@pytest.mark.parametrize("where", ["top", "architecture", "names", "module", "options"])
@pytest.mark.parametrize("payload", sorted(CODE))
def test_a_file_that_would_run_code_runs_nothing(tmp_path, payload, where):
    marker = tmp_path / "ran"
    path = tmp_path / f"evil-{payload}-{where}.pt"
    torch.save(_embedded(CODE[payload](marker), where), path)
    message = refused(path)
    assert "was refused: it asks to run" in message and "Nothing in it was run" in message
    assert not marker.exists()


@pytest.mark.parametrize("payload", ["os.system", "eval", "subprocess.call", "nested-pickle.loads", "compile"])
def test_the_payloads_really_run_when_loaded_unsafely(tmp_path, payload):
    """Without the safe loader the same files do run code: the test above is meaningful."""
    marker = tmp_path / "ran"
    path = tmp_path / "evil.pt"
    torch.save(_embedded(CODE[payload](marker), "top"), path)
    loaded = torch.load(path, weights_only=False)
    if payload == "compile":  # a code object, which the attacker would then exec
        exec(loaded["model"])
    assert marker.exists()


def _handmade_pickles(marker: Path) -> dict[str, bytes]:
    return {
        # protocol 0 INST: the class name comes with the opcode
        "inst": f"(S'touch {marker}'\nios\nsystem\n.".encode(),
        # protocol 4 STACK_GLOBAL: the name is built on the stack
        "stack-global": pickle.dumps(Reduce(os.system, f"touch {marker}"), protocol=4),
        # a GLOBAL torch's own allow-list accepts, to call with attacker-chosen sizes
        "bytearray-10GB": b"\x80\x02c__builtin__\nbytearray\nJ\x00\x00\x00\x80\x85R.",
    }


@pytest.mark.parametrize("kind", ["inst", "stack-global", "bytearray-10GB"])
def test_handmade_pickles_are_refused(tmp_path, kind):
    marker = tmp_path / "ran"
    path = tmp_path / f"{kind}.pt"
    zip_with_pickle(path, _handmade_pickles(marker)[kind])
    assert "was refused" in refused(path)
    assert not marker.exists()


# -- what torch's weights_only loader allows, asked for gigabytes ---------------------------------

def _memory_bombs(tmp_path: Path, weights) -> dict[str, Path]:
    """Files of a few kilobytes that ask for gigabytes: name -> path."""
    files = {}

    def save(name, obj):
        files[name] = tmp_path / f"{name}.pt"
        torch.save(obj, files[name])

    # A torch.nn layer class called with the file's own sizes: a 4 GB Conv2d from 1 KB.
    save("conv2d-4GB", {"model": Reduce(torch.nn.Conv2d, 32768, 32768, 1), "ema": None})
    save("yolo-class-called", {"model": Reduce(_official_class("models.common.Conv"), 32768, 32768), "ema": None})
    save("float-tensor-40GB", {"model": Reduce(torch.FloatTensor, 100000, 100000), "ema": None})
    save("bytearray-10GB", {"model": Reduce(bytearray, 10 ** 10), "ema": None})
    # A tensor of 10^10 values that are one stored value, materialised by a torch rebuild function.
    one = torch.zeros(1).expand(100000, 100000)
    save("cpu-tensor-rebuild", {"model": Reduce(torch._utils._rebuild_device_tensor_from_cpu_tensor,
                                                one, torch.float32, "cpu", False)})
    # The same broadcast as a weight of the right name and shape, and as the strides.
    broadcast = dict(weights)
    broadcast["model.24.m.0.weight"] = torch.zeros(1, dtype=torch.float16).expand(*weights["model.24.m.0.weight"].shape)
    files["weight-not-in-file"] = tmp_path / "weight-not-in-file.pt"
    write_checkpoint(files["weight-not-in-file"], tiny_architecture(3), NAMES,
                     torch.tensor(STRIDES, dtype=torch.float32), broadcast)
    files["strides-10G"] = tmp_path / "strides-10G.pt"
    write_checkpoint(files["strides-10G"], tiny_architecture(3), NAMES, torch.zeros(1).expand(10 ** 10), {})
    # Architectures that would build tens of gigabytes.
    for name, change in [("width-x5", {"width_multiple": 5.0}), ("600000-classes", {"nc": 600000}),
                         ("width-2-channels-4096", {"width_multiple": 2.0})]:
        architecture = {**tiny_architecture(3), **change}
        if name == "width-2-channels-4096":  # at stride 32 only, so that no activation bound comes first
            for row in architecture["backbone"][7:10]:
                row[3] = [4096, *row[3][1:]]
        files[name] = tmp_path / f"{name}.pt"
        write_checkpoint(files[name], architecture, NAMES, torch.tensor(STRIDES, dtype=torch.float32), {})
    # A storage whose pickle claims 2 * 10^9 values where the file holds 54321.
    files["storage-claims-4GB"] = tmp_path / "storage-claims-4GB.pt"
    torch.save({"model": torch.zeros(54321, dtype=torch.float16)}, tmp_path / "small.pt")
    edit_pickle(tmp_path / "small.pt", files["storage-claims-4GB"], b"M" + struct.pack("<H", 54321),
                b"J" + struct.pack("<i", 2 * 10 ** 9))
    # Zip bombs: a record that inflates 1000 times, and one whose directory claims 4 GB.
    files["zip-bomb"] = tmp_path / "zip-bomb.pt"
    zip_with_pickle(files["zip-bomb"], pickle.dumps({"x": 1}, protocol=2), {"0": bytes(64 << 20)})
    rezip(files["zip-bomb"], tmp_path / "bomb.zip", compression=zipfile.ZIP_DEFLATED)
    os.replace(tmp_path / "bomb.zip", files["zip-bomb"])
    files["entry-claims-4GB"] = tmp_path / "entry-claims-4GB.pt"
    files["entry-claims-4GB"].write_bytes(_with_declared_size(_good_copy(tmp_path, weights), 0xFFFFFFF0))
    # A pickle of a million empty dicts: 1 MB that unpickles to 100 MB, and on.
    files["million-objects"] = tmp_path / "million-objects.pt"
    zip_with_pickle(files["million-objects"], b"\x80\x02(" + b"}" * 1_100_000 + b"t.")
    # The most objects the opcode bound lets through: unpickled (about 100 MB), then refused.
    files["objects-under-the-bound"] = tmp_path / "objects-under-the-bound.pt"
    zip_with_pickle(files["objects-under-the-bound"], b"\x80\x02(" + b"}" * 999_990 + b"t.")
    # Class names of a million characters.
    files["megabyte-name"] = tmp_path / "megabyte-name.pt"
    write_checkpoint(files["megabyte-name"], tiny_architecture(3), ["a", "b" * 10 ** 6, "c"],
                     torch.tensor(STRIDES, dtype=torch.float32), {})
    return files


def _good_copy(tmp_path: Path, weights) -> Path:
    path = tmp_path / "good-copy.pt"
    write_checkpoint(path, tiny_architecture(3), NAMES, torch.tensor(STRIDES, dtype=torch.float32), weights)
    return path


def _central_header(data: bytes, entry: str) -> int:
    """Where the zip's central directory describes entry (46 bytes of fields, then the name)."""
    name = entry.encode()
    at = data.rfind(name)
    while data[at - 46:at - 42] != b"PK\x01\x02" or struct.unpack("<H", data[at - 18:at - 16])[0] != len(name):
        at = data.rfind(name, 0, at)
        assert at > 0, entry
    return at - 46


def _with_declared_size(path: Path, size: int) -> bytes:
    """The zip with the uncompressed size of a data record, as its central directory states it, replaced."""
    with zipfile.ZipFile(path) as archive:
        entry = next(e for e in archive.namelist() if "/data/" in e)
    data = bytearray(path.read_bytes())
    at = _central_header(bytes(data), entry)
    data[at + 24:at + 28] = struct.pack("<L", size)
    return bytes(data)


def test_memory_bombs_are_refused_in_bounded_memory(tmp_path, weights):
    """The worst files, loaded in a fresh process: all refused, its peak memory (its own, counted
    from after its imports) under 1.5 GB. (An address-space limit of 4 GB keeps a regression from
    taking the machine down; the assertion on the messages makes sure that limit is not what
    refused them.)"""
    files = _memory_bombs(tmp_path, weights)
    script = """
import json, resource, sys, warnings
resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
warnings.filterwarnings("ignore")
from lwface_desktop.core.errors import ModelError
from lwface_desktop.core.yolo.detector import YoloDetector
from tests.memory import start_measuring
start_measuring()
messages = {}
for path in sys.argv[1:]:
    try:
        YoloDetector(path, precision="fp32", threads=1)
        messages[path] = None
    except ModelError as e:
        messages[path] = str(e)
print(json.dumps(messages))
"""
    run = run_python(script, *files.values())
    assert run.returncode == 0, run.stderr[-2000:]
    messages = json.loads(run.stdout)
    for name, path in files.items():
        message = messages[str(path)]
        assert message is not None, f"{name} was accepted"
        assert path.name in message and "memory available" not in message, message
    print(f"\npeak {run.peak_mb:.0f} MB, {run.baseline_mb:.0f} MB after imports")
    assert run.peak_mb < 1.5 * 1024


# -- damaged archives -----------------------------------------------------------------------------

@pytest.mark.parametrize("fraction", [0, 0.0001, 0.001, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7,
                                      0.8, 0.9, 0.95, 0.99, 0.999, 0.9999, -22, -1])
def test_a_truncated_checkpoint_is_refused(tmp_path, good, fraction):
    data = good.read_bytes()
    cut = len(data) + fraction if fraction < 0 else int(len(data) * fraction)
    path = tmp_path / "cut.pt"
    path.write_bytes(data[:cut])
    assert "cut.pt" in refused(path)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _pickle_offset(path: Path) -> int:
    with zipfile.ZipFile(path) as archive:
        entry = archive.getinfo(next(n for n in archive.namelist() if n.endswith("data.pkl")))
    return entry.header_offset + 30 + len(entry.filename) + len(entry.extra)


def _flipped(data: bytes, at: int) -> bytes:
    changed = bytearray(data)
    changed[at] ^= 0xFF
    return bytes(changed)


def _zip64_directory_size(data: bytes, change) -> bytes:
    changed = bytearray(data)
    end = changed.rindex(b"PK\x06\x06")  # the Zip64 end record, which torch always writes
    size = struct.unpack("<Q", changed[end + 40:end + 48])[0]
    changed[end + 40:end + 48] = struct.pack("<Q", change(size))
    return bytes(changed)


def _entries(path: Path, names: list[str], count: int = 0) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name in names:
            archive.writestr(name, pickle.dumps({}, protocol=2) if name.endswith("data.pkl") else b"3")
        for i in range(count):
            archive.writestr(f"a/data/{i}", b"")
    return path


def _encrypted(data: bytes, entry: str) -> bytes:
    changed = bytearray(data)
    changed[_central_header(data, entry) + 8] |= 1  # general purpose flags: bit 0, encrypted
    return bytes(changed)


def _on_pickle(change):
    return lambda n, d: change(d) if n.endswith("data.pkl") else d


ARCHIVES = {  # name -> (make(path, good) -> path, what the message must say)
    "empty": (lambda p, g: _write(p, b""), "not a PyTorch model file"),
    "text": (lambda p, g: _write(p, b"These are my holiday notes.\n" * 20), "not a PyTorch model file"),
    "legacy-pickle": (lambda p, g: _write(p, pickle.dumps(Reduce(os.system, "true"))), "not a PyTorch model file"),
    "directory-moved": (lambda p, g: _write(p, _zip64_directory_size(g.read_bytes(), lambda n: n - 46)),
                        "not a PyTorch model file"),
    "directory-claims-1TB": (lambda p, g: _write(p, _zip64_directory_size(g.read_bytes(), lambda n: 1 << 40)),
                             "lists more files"),
    "pickle-flipped": (lambda p, g: _write(p, _flipped(g.read_bytes(), _pickle_offset(g) + 200)),
                       "not a PyTorch model file"),
    "no-pickle": (lambda p, g: rezip(g, p, lambda n, d: None if n.endswith("data.pkl") else d) or p, "no data.pkl"),
    "pickle-truncated": (lambda p, g: rezip(g, p, _on_pickle(lambda d: d[: len(d) // 2])) or p, "damaged"),
    "pickle-garbage": (lambda p, g: rezip(g, p, _on_pickle(lambda d: bytes(reversed(d)))) or p, "damaged"),
    "pickle-not-stopping": (lambda p, g: zip_with_pickle(p, b"\x80\x02}") or p, "damaged"),
    "pickle-5MB": (lambda p, g: zip_with_pickle(p, b"\x80\x02X" + struct.pack("<I", 5 << 20) + b"x" * (5 << 20) + b".")
                   or p, "description of the model is 5 MB"),
    "record-missing": (lambda p, g: rezip(g, p, lambda n, d: None if n.endswith("/data/3") else d) or p, "damaged"),
    "record-short": (lambda p, g: rezip(g, p, lambda n, d: d[:-2] if n.endswith("/data/3") else d) or p, "damaged"),
    "two-folders": (lambda p, g: _entries(p, ["a/data.pkl", "b/version"]), "not laid out as torch saves"),
    "duplicate-entries": (lambda p, g: _entries(p, ["a/data.pkl", "a/version", "a/data.pkl"]),
                          "not laid out as torch saves"),
    "20001-entries": (lambda p, g: _entries(p, ["a/data.pkl"], 20001), "holds 20002 files"),
    "encrypted": (lambda p, g: _write(p, _encrypted(g.read_bytes(), "good/version")), "encrypted"),
}


@pytest.mark.filterwarnings("ignore:Duplicate name")
@pytest.mark.parametrize("name", sorted(ARCHIVES))
def test_a_damaged_or_hostile_archive_is_refused(tmp_path, good, name):
    make, expected = ARCHIVES[name]
    path = make(tmp_path / f"{name}.pt", good)
    message = refused(path)
    assert expected in message, message


def test_memory_bombs_one_by_one(tmp_path, weights):
    """The same files as the bounded-memory test, each refused for the right reason."""
    files = _memory_bombs(tmp_path, weights)
    called = "build a layer from its own arguments"
    reasons = {"conv2d-4GB": called, "yolo-class-called": called,
               "float-tensor-40GB": "asks to run 'torch.FloatTensor'", "bytearray-10GB": "asks to run",
               "cpu-tensor-rebuild": "asks to run", "weight-not-in-file": "claims more values than the file holds",
               "strides-10G": "strides", "width-x5": "width multiple is 5", "600000-classes": "600000",
               "width-2-channels-4096": f"more than {MAX_WEIGHTS // 1_000_000} million weights",
               "storage-claims-4GB": "damaged", "zip-bomb": "zip bomb", "entry-claims-4GB": "expand to more than",
               "million-objects": "more complex",
               "objects-under-the-bound": "no YOLOv5 model inside", "megabyte-name": "longer than 100 characters"}
    assert set(reasons) == set(files)
    for name, path in files.items():
        message = refused(path, hostile="b" * 1000)
        assert reasons[name] in message, message


def test_a_compressed_checkpoint_still_loads(tmp_path, good):
    """torch.save stores entries uncompressed; a re-zipped (deflated) file is still a model."""
    path = tmp_path / "deflated.pt"
    rezip(good, path, compression=zipfile.ZIP_DEFLATED)
    assert YoloDetector(path, precision="fp32", threads=1).names == NAMES


# -- absurd architectures ------------------------------------------------------------------------

def _deep_list(depth: int) -> bytes:
    """Pickle opcodes for a list nested depth deep, built without recursion."""
    return b"]" * depth + b"a" * (depth - 1)


def _layer(a, i):
    rows = a["backbone"] + a["head"]
    return rows[i]


def _set(i, position, value):
    def change(a):
        row = _layer(a, i)
        if position == "args":
            row[3] = value
        elif isinstance(position, int):
            row[position] = value
        else:
            row[3][position[1]] = value
    return change


ARCHITECTURES = {  # name -> (change to the tiny architecture, what the message must say)
    "width-x5": (lambda a: a.update(width_multiple=5.0), "width multiple is 5"),
    "width-inf": (lambda a: a.update(width_multiple=math.inf), "width multiple is inf"),
    "width-nan": (lambda a: a.update(width_multiple=math.nan), "width multiple is nan"),
    "width-negative": (lambda a: a.update(width_multiple=-0.25), "width multiple is -0.25"),
    "width-zero": (lambda a: a.update(width_multiple=0), "width multiple is 0"),
    "width-text": (lambda a: a.update(width_multiple="0.25"), "width multiple is text"),
    "width-list": (lambda a: a.update(width_multiple=[0.25]), "width multiple is a list"),
    "width-missing": (lambda a: a.pop("width_multiple"), "width multiple is nothing"),
    "depth-300": (lambda a: a.update(depth_multiple=300), "depth multiple is 300"),
    "depth-inf": (lambda a: a.update(depth_multiple=-math.inf), "depth multiple is -inf"),
    "depth-nan": (lambda a: a.update(depth_multiple=math.nan), "depth multiple is nan"),
    "depth-bool": (lambda a: a.update(depth_multiple=True), "depth multiple is True"),
    "600000-classes": (lambda a: a.update(nc=600000), "number of classes is 600000"),
    "no-classes": (lambda a: a.update(nc=0), "number of classes is 0"),
    "classes-negative": (lambda a: a.update(nc=-3), "number of classes is -3"),
    "classes-fraction": (lambda a: a.update(nc=2.5), "number of classes is 2.5"),
    "classes-text": (lambda a: a.update(nc="3"), "number of classes is text"),
    "classes-huge-int": (lambda a: a.update(nc=10 ** 100), "number of classes is a huge number"),
    "300000-repeats": (_set(2, 1, 300000), "repeats 300000 times"),
    "repeats-negative": (_set(2, 1, -3), "repeats -3 times"),
    "repeats-zero": (_set(2, 1, 0), "repeats 0 times"),
    "repeats-fraction": (_set(2, 1, 1.5), "repeats 1.5 times"),
    "repeats-text": (_set(2, 1, "3"), "repeats text times"),
    "billion-channels": (_set(1, ("args", 0), 10 ** 9), "channel count of 1000000000"),
    "channels-zero": (_set(1, ("args", 0), 0), "channel count of 0"),
    "channels-negative": (_set(1, ("args", 0), -64), "channel count of -64"),
    "channels-nan": (_set(1, ("args", 0), math.nan), "channel count of nan"),
    "channels-inf": (_set(1, ("args", 0), math.inf), "channel count of inf"),
    "channels-text": (_set(1, ("args", 0), "128"), "channel count of text"),
    "channels-nested": (_set(1, ("args", 0), [[128]]), "channel count of a list"),
    "kernel-1001": (_set(1, ("args", 1), 1001), "kernel size of 1001"),
    "kernel-zero": (_set(1, ("args", 1), 0), "kernel size of 0"),
    "stride-1000": (_set(1, ("args", 2), 1000), "stride of 1000"),
    "stride-zero": (_set(1, ("args", 2), 0), "stride of 0"),
    "padding-negative": (_set(0, ("args", 3), -1), "padding of -1"),
    "padding-too-much": (_set(0, ("args", 3), 5), "pads its 6x6 convolution by 5"),
    "even-kernel-no-padding": (_set(0, "args", [64, 6, 2]), "pads its 6x6 convolution by 3"),
    "from-out-of-range": (_set(12, 0, [-1, 99]), "from 99, which is not an earlier layer"),
    "from-far-back": (_set(1, 0, -100), "from -100"),
    "from-itself": (_set(3, 0, 3), "from 3"),
    "from-text": (_set(3, 0, "previous"), "from text"),
    "from-nested": (_set(3, 0, [[-1]]), "takes one earlier layer"),
    "first-layer-from-a-layer": (_set(0, 0, 0), "from 0"),
    "concat-from-nested": (_set(12, 0, [-1, [6]]), "from a list"),
    "1000-layers": (lambda a: a.update(head=a["head"][:-1] + [[-1, 1, "Conv", [64, 1, 1]]] * 1000 + a["head"][-1:]),
                    "1025 layers"),
    "no-layers": (lambda a: a.update(backbone=[], head=[]), "0 layers"),
    "layers-not-a-list": (lambda a: a.update(backbone="Conv"), "no list of layers"),
    "row-not-a-list": (lambda a: a["backbone"].__setitem__(1, "Conv"), "layer 1 is not a [from, repeats"),
    "row-short": (lambda a: a["backbone"].__setitem__(1, [-1, 1, "Conv"]), "layer 1 is not a [from, repeats"),
    "unknown-layer": (_set(1, 2, "os.system"), "type (os.system) that lwface-desktop does not support"),
    "markup-layer": (_set(1, 2, "<b>Conv</b>"), "of a type that lwface-desktop does not support"),
    "megabyte-layer-name": (_set(1, 2, "C" * 10 ** 6), "of a type that lwface-desktop does not support"),
    "layer-type-not-text": (_set(1, 2, 7), "of a type that lwface-desktop does not support"),
    "args-not-a-list": (_set(1, "args", 128), "no valid list of arguments"),
    "args-too-many": (_set(1, "args", [128, 3, 2, 1, 1, 1]), "no valid list of arguments"),
    "shortcut-not-bool": (_set(13, "args", [512, "False"]), "shortcut setting"),
    "anchors-missing": (lambda a: a.pop("anchors"), "anchors are not lists"),
    "anchors-negative": (lambda a: a["anchors"][0].__setitem__(0, -10), "anchors include -10"),
    "anchors-nan": (lambda a: a["anchors"][0].__setitem__(0, math.nan), "anchors include nan"),
    "anchors-inf": (lambda a: a["anchors"][1].__setitem__(3, math.inf), "anchors include inf"),
    "anchors-text": (lambda a: a["anchors"][0].__setitem__(0, "10"), "anchors include text"),
    "anchors-odd": (lambda a: a["anchors"].__setitem__(0, [10, 13, 16]), "width-height pairs"),
    "anchors-1000-per-level": (lambda a: a.update(anchors=[[10] * 2000] * 3), "width-height pairs"),
    "anchors-uneven-levels": (lambda a: a["anchors"].__setitem__(0, [10, 13]), "width-height pairs"),
    "anchors-nested": (lambda a: a.update(anchors=[[[10, 13], [16, 30]]] * 3), "anchors include a list"),
    "anchors-100-levels": (lambda a: a.update(anchors=[[10, 13]] * 100), "anchors are not lists"),
    "anchors-number": (lambda a: a.update(anchors=3), "anchors are not lists"),
    "detect-not-last": (lambda a: a["head"].append([-1, 1, "Conv", [64, 1, 1]]), "only that one, must be a Detect"),
    "two-detects": (lambda a: a["head"].insert(-1, copy.deepcopy(a["head"][-1])), "must be a Detect"),
    "no-detect": (lambda a: a["head"].pop(), "must be a Detect"),
    "detect-wrong-classes": (_set(24, "args", [80, "anchors"]), "does not take the model's 3 classes"),
    "detect-two-inputs": (_set(24, 0, [17, 20]), "has 2 inputs but anchors for 3"),
    "detect-repeated": (_set(24, 1, 9), "is repeated"),
    "concat-different-sizes": (_set(12, 0, [-1, 4]), "joins outputs of different sizes"),
    "concat-other-dimension": (_set(12, "args", [0]), "along the channels"),
    "upsample-1000": (_set(11, "args", [None, 1000, "nearest"]), "scale factor of 1000"),
    "upsample-mode": (_set(11, "args", [None, 2, "<script>"]), "scales in a way"),
    "concat-dimension-tensor": (_set(12, "args", [torch.tensor([1, 1])]), "along the channels"),
    "detect-classes-tensor": (_set(24, "args", [torch.tensor([3, 3]), "anchors"]), "does not take"),
    "upsample-mode-tensor": (_set(11, "args", [None, 2, torch.tensor([1, 2])]), "scales in a way"),
    "from-tensor": (_set(3, 0, torch.tensor([-1, -1])), "from an object"),
    "width-tensor": (lambda a: a.update(width_multiple=torch.tensor([0.25, 0.25])), "width multiple is an object"),
    "upsample-first": (lambda a: a["backbone"].__setitem__(0, [-1, 1, "nn.Upsample", [None, 2, "nearest"]]),
                       "cannot be the first layer"),
    "sppf-even-pool": (_set(9, "args", [1024, 6]), "pools over an even size"),
    "sppf-pool-99": (_set(9, "args", [1024, 99]), "pooling size of 99"),
    "repeated-conv-changing-width": (_set(3, 1, 6), "input and output channels differ"),
    "too-many-convolutions": (lambda a: (a.update(depth_multiple=2.0), [r.__setitem__(1, 32) for r in
                                         a["backbone"] + a["head"] if r[2] == "C3"]), "convolutions"),
    "stride-1-first-layer-4096": (lambda a: (a.update(width_multiple=1.0),
                                             a["backbone"].__setitem__(0, [-1, 1, "Conv", [4096, 3, 1]])),
                                  "values for every 1x1 pixels"),
    "many-wide-layers": (lambda a: (a.update(width_multiple=1.0), a["head"].__setitem__(slice(-1, -1), [
        [-1, 1, "Conv", [64, 1, 1]], *[[-1, 1, "nn.Upsample", [None, 2, "nearest"]]] * 5,
        *[[-1, 1, "Conv", [200, 1, 1]]] * 6])), "layers' outputs would take more memory"),
    "shrinks-past-the-outputs": (lambda a: a["head"].insert(-1, [-1, 1, "Conv", [64, 3, 2]]),
                                 "shrinks the image more than its coarsest output level"),
}


@pytest.mark.parametrize("name", sorted(ARCHITECTURES))
def test_an_absurd_architecture_is_refused_before_anything_is_built(tmp_path, name):
    change, expected = ARCHITECTURES[name]
    architecture = tiny_architecture(3)
    change(architecture)
    path = tmp_path / f"{name}.pt"
    write_checkpoint(path, architecture, NAMES, torch.tensor(STRIDES, dtype=torch.float32), {})
    message = refused(path, hostile="<")
    assert "is not a usable YOLOv5 model" in message and expected in message, message


def test_a_deeply_nested_architecture_is_refused(tmp_path):
    architecture = tiny_architecture(3)
    architecture["backbone"][1][3][0] = "DEEP-PLACEHOLDER"
    architecture["anchors"][0][0] = "DEEP-ANCHOR"
    plain = tmp_path / "plain.pt"
    write_checkpoint(plain, architecture, NAMES, torch.tensor(STRIDES, dtype=torch.float32), {})
    for target in (b"DEEP-PLACEHOLDER", b"DEEP-ANCHOR"):
        path = tmp_path / f"deep-{target.decode().lower()}.pt"
        label = b"X" + struct.pack("<I", len(target)) + target
        edit_pickle(plain, path, label, _deep_list(100_000))
        assert "usable" in refused(path)


# -- class names and strides ---------------------------------------------------------------------

NAME_LISTS = {  # name -> (class names, what the message must say)
    "none": ([], "do not match its 3 classes"),
    "too-few": (["apple", "banana"], "do not match its 3 classes"),
    "too-many": (NAMES + ["durian"], "do not match its 3 classes"),
    "dict-text-keys": ({"0": "apple", "1": "banana", "2": "cherry"}, "do not match"),
    "dict-missing-key": ({0: "apple", 1: "banana", 3: "cherry"}, "do not match"),
    "dict-bool-keys": ({False: "apple", True: "banana", 2: "cherry"}, "do not match"),
    "dict-mixed-keys": ({0: "apple", "1": "banana", 2: "cherry"}, "do not match"),
    "numbers": ([1, 2, 3], "not all text"),
    "with-none": (["apple", None, "cherry"], "not all text"),
    "with-tensor": (["apple", torch.zeros(3), "cherry"], "not all text"),
    "dict-number-values": ({0: "apple", 1: 2, 2: "cherry"}, "not all text"),
    "a-string": ("abc", "do not match"),
    "a-number": (3, "do not match"),
    "megabyte-long": (["apple", "b" * 10 ** 6, "cherry"], "longer than 100"),
    "empty-name": (["apple", "", "cherry"], "an empty one"),
    "blank-name": (["apple", "   ", "cherry"], "an empty one"),
    "rich-text": (["apple", "<b>x</b>", "cherry"], "markup or control"),
    "html-link": (["apple", "<a href='file:///etc/passwd'>banana</a>", "cherry"], "markup or control"),
    "terminal-escape": (["apple", "\x1b[31mred", "cherry"], "markup or control"),
    "line-break": (["apple", "ban\nana", "cherry"], "markup or control"),
    "nul": (["apple", "ban\x00ana", "cherry"], "markup or control"),
    "bidi-override": (["apple", "\u202eananab", "cherry"], "markup or control"),
    "100000-names": (["x"] * 10 ** 5, "do not match"),
}


@pytest.mark.parametrize("name", sorted(NAME_LISTS))
def test_unusable_class_names_are_refused(tmp_path, name):
    names, expected = NAME_LISTS[name]
    path = tmp_path / f"names-{name}.pt"
    write_checkpoint(path, tiny_architecture(3), names, torch.tensor(STRIDES, dtype=torch.float32), {})
    message = refused(path, hostile="<b>")
    assert "class names" in message and expected in message, message
    assert "\x1b" not in message and "bbbbbbbbbb" not in message


STRIDE_VALUES = {
    "zero": torch.tensor([0.0, 16, 32]),
    "negative": torch.tensor([-8.0, 16, 32]),
    "nan": torch.tensor([math.nan, 16, 32]),
    "inf": torch.tensor([8.0, 16, math.inf]),
    "huge": torch.tensor([8.0, 16, 1e30]),
    "billion": torch.tensor([8, 16, 10 ** 9]),
    "fraction": torch.tensor([8.5, 16, 32]),
    "not-power-of-two": torch.tensor([12.0, 16, 32]),
    "decreasing": torch.tensor([32.0, 16, 8]),
    "repeated": torch.tensor([8.0, 8, 32]),
    "too-few": torch.tensor([8.0, 16]),
    "too-many": torch.tensor([8.0, 16, 32, 64]),
    "p6-strides-for-p5": torch.tensor([16.0, 32, 64]),
    "2d": torch.tensor([[8.0, 16, 32]]),
    "scalar": torch.tensor(32.0),
    "empty": torch.tensor([]),
    "list": [8, 16, 32],
    "text": "8,16,32",
    "complex": torch.tensor([8, 16, 32], dtype=torch.complex64),
    "bool": torch.tensor([True, True, True]),
    "sparse": torch.tensor([8.0, 16, 32]).to_sparse(),
}


@pytest.mark.parametrize("name", sorted(STRIDE_VALUES))
def test_bad_strides_are_refused(tmp_path, name):
    path = tmp_path / f"strides-{name}.pt"
    write_checkpoint(path, tiny_architecture(3), NAMES, STRIDE_VALUES[name], {})
    message = refused(path)
    assert "strides" in message or "was refused" in message, message


def test_integer_strides_are_fine(tmp_path, weights):
    path = tmp_path / "int-strides.pt"
    write_checkpoint(path, tiny_architecture(3), NAMES, torch.tensor(STRIDES), weights)
    assert YoloDetector(path, precision="fp32", threads=1).stride == 32


# -- the module tree and its weights -------------------------------------------------------------

def _tree_cases() -> dict[str, tuple[object, str]]:
    """name -> (object to save, what the message must say)."""
    architecture = tiny_architecture(3)
    stride = torch.tensor(STRIDES, dtype=torch.float32)

    def model(state=None, **attributes):
        root = _official_class("models.yolo.Model")()
        root.__dict__.update({"yaml": architecture, "names": list(NAMES), "stride": stride, **attributes})
        for key, value in (state or {}).items():
            root._modules[key] = value
        return {"model": root, "ema": None}

    deep = _official_class("models.common.Conv")()
    for _ in range(60):
        outer = torch.nn.Sequential()
        outer._modules["0"] = deep
        deep = outer
    cyclic = model()
    cyclic["model"]._modules["model"] = cyclic["model"]
    not_module = model({"model": "a string"})
    listed = model()
    listed["model"].__dict__["_parameters"] = [torch.zeros(3)]
    text_weight = model()
    text_weight["model"]._parameters["weight"] = "text"
    no_yaml = model()
    del no_yaml["model"].__dict__["yaml"]
    return {
        "a-list": ([1, 2, 3], "no YOLOv5 model inside"),
        "none": (None, "no YOLOv5 model inside"),
        "a-tensor": (torch.zeros(3), "no YOLOv5 model inside"),
        "text": ("model", "no YOLOv5 model inside"),
        "model-is-text": ({"model": "yolov5", "ema": None}, "no YOLOv5 model inside"),
        "model-is-a-dict": ({"model": {"yaml": architecture}}, "no YOLOv5 model inside"),
        "no-architecture": (no_yaml, "no YOLOv5 model inside"),
        "architecture-is-text": (model(yaml="nc: 3"), "no YOLOv5 model inside"),
        "no-names": (model(names=None), "no class names or strides"),
        "deeply-nested-modules": (model({"model": deep}), "nested deeper"),
        "module-inside-itself": (cyclic, "not a layer"),
        "child-not-a-module": (not_module, "not a layer"),
        "child-a-tensor": (model({"model": torch.zeros(3)}), "not a layer"),
        "parameters-a-list": (listed, "not a layer"),
        "weight-is-text": (text_weight, "not a tensor"),
    }


@pytest.mark.parametrize("name", sorted(_tree_cases()))
def test_a_broken_module_tree_is_refused(tmp_path, name):
    saved, expected = _tree_cases()[name]
    path = tmp_path / f"tree-{name}.pt"
    torch.save(saved, path)
    message = refused(path)
    assert expected in message, message


def _changed(weights: dict, change) -> dict:
    state = dict(weights)
    change(state)
    return state


WEIGHT_CASES = {  # name -> (change to the state dict, what the message must say)
    "missing": (lambda s: s.pop("model.2.cv1.conv.weight"), "lacks model.2.cv1.conv.weight"),
    "extra": (lambda s: s.update({"model.2.cv9.conv.weight": torch.zeros(3)}), "has model.2.cv9.conv.weight"),
    "markup-name": (lambda s: s.update({"model.2.<b>x</b>": torch.zeros(3)}), "invalid names"),
    "wrong-shape": (lambda s: s.update({"model.0.conv.weight": torch.zeros(16, 3, 6, 6, dtype=torch.float16)}),
                    "has the shape 16x3x6x6, where its architecture needs 8x3x6x6"),
    "transposed": (lambda s: s.update({"model.24.m.0.weight": s["model.24.m.0.weight"].transpose(0, 1)}),
                   "has the shape 16x24x1x1, where its architecture needs 24x16x1x1"),
    "integer-buffer": (lambda s: s.update({"model.0.bn.running_mean": torch.zeros(8, dtype=torch.int64)}),
                       "holds int64 values"),
    "integer-weight": (lambda s: s.update({"model.0.conv.weight": torch.zeros(8, 3, 6, 6, dtype=torch.int64)}),
                       "holds int64 values"),
    "nan": (lambda s: s.update({"model.1.conv.weight": s["model.1.conv.weight"].clone().fill_(math.nan)}),
            "infinite or undefined"),
    "inf": (lambda s: s.update({"model.24.m.1.bias": s["model.24.m.1.bias"].clone().fill_(math.inf)}),
            "infinite or undefined"),
    "negative-anchors": (lambda s: s.update({"model.24.anchors": -s["model.24.anchors"]}), "anchors"),
    "broadcast-weight": (lambda s: s.update({"model.8.cv3.conv.weight": torch.zeros(1, dtype=torch.float16).expand(
        *s["model.8.cv3.conv.weight"].shape)}), "claims more values than the file holds"),
    "shared-storage": (lambda s: s.update({"model.2.cv1.conv.weight": s["model.2.cv2.conv.weight"]}),
                       "claim more values than the file holds"),
    "sparse": (lambda s: s.update({"model.0.bn.bias": s["model.0.bn.bias"].float().to_sparse()}), "was refused"),
    "meta": (lambda s: s.update({"model.0.bn.bias": torch.zeros(8, device="meta")}), "was refused"),
    "quantized": (lambda s: s.update({"model.0.bn.bias": torch.quantize_per_tensor(
        torch.zeros(8), 0.1, 0, torch.qint8)}), "was refused"),
    "complex": (lambda s: s.update({"model.0.bn.bias": torch.zeros(8, dtype=torch.complex64)}), "was refused"),
    "half-fused": (lambda s: [s.pop(k) for k in list(s) if k.startswith("model.3.bn.")], "do not match"),
}


@pytest.mark.filterwarnings("ignore:torch.quantize_per_tensor")
@pytest.mark.parametrize("name", sorted(WEIGHT_CASES))
def test_weights_that_do_not_fit_are_refused(tmp_path, weights, name):
    change, expected = WEIGHT_CASES[name]
    path = tmp_path / f"weights-{name}.pt"
    write_checkpoint(path, tiny_architecture(3), NAMES, torch.tensor(STRIDES, dtype=torch.float32),
                     _changed(weights, change))
    message = refused(path, hostile="<b>")
    assert expected in message, message


def test_a_model_whose_output_is_not_finite_is_refused_by_the_test_pass(tmp_path, weights):
    """Loadable and finite weights, but negative variances: NaN on every image. Caught by the
    forward pass on a blank image, before any photo, and by --self-test."""
    state = _changed(weights, lambda s: s.update({"model.4.cv3.bn.running_var": -s["model.4.cv3.bn.running_var"]}))
    path = tmp_path / "negative-variance.pt"
    write_checkpoint(path, tiny_architecture(3), NAMES, torch.tensor(STRIDES, dtype=torch.float32), state)
    assert loader.load_checkpoint(path).names == NAMES  # the file itself reads fine
    assert "output on a test image is not finite" in refused(path)
    passed, sentence = selftest._check_model(path)
    assert not passed and "negative-variance.pt" in sentence and "not finite" in sentence


def test_self_test_builds_and_runs_the_model(tmp_path, good):
    passed, sentence = selftest._check_model(good)
    assert passed and "loads and runs" in sentence
    broken = tmp_path / "broken.pt"
    write_checkpoint(broken, {**tiny_architecture(3), "width_multiple": 5.0}, NAMES,
                     torch.tensor(STRIDES, dtype=torch.float32), {})
    passed, sentence = selftest._check_model(broken)
    assert not passed and "broken.pt is not a usable YOLOv5 model: its width multiple is 5" in sentence


# -- what must keep working ------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.bfloat16, torch.float64])
def test_every_float_type_of_weights_loads(tmp_path, weights, dtype):
    path = tmp_path / "typed.pt"
    state = {k: v.to(dtype) if v.is_floating_point() else v for k, v in weights.items()}
    write_checkpoint(path, tiny_architecture(3), {i: n for i, n in enumerate(NAMES)},
                     torch.tensor(STRIDES, dtype=torch.float32), state, v7=True)
    assert YoloDetector(path, precision="fp32", threads=1).names == NAMES


def test_a_checkpoint_with_training_paths_loads_and_nothing_of_it_is_kept(tmp_path, weights):
    path = tmp_path / "trained.pt"
    write_checkpoint(path, tiny_architecture(3), NAMES, torch.tensor(STRIDES, dtype=torch.float32), weights,
                     extra={"opt": {"weights": Path("yolov5n.pt"), "hyp": collections.OrderedDict(lr0=0.01),
                                    "classes": {1, 2}}})
    assert YoloDetector(path, precision="fp32", threads=1).names == NAMES


@pytest.mark.parametrize("layout", ["p5", "p6", "p5-large"])
def test_the_planned_weights_are_the_networks(layout):
    """plan_architecture counts weights from the numbers alone: the count is the real one."""
    architecture, strides = {"p5": (tiny_architecture(80), STRIDES), "p6": (p6_architecture_of(80), [8, 16, 32, 64]),
                             "p5-large": (architecture_of(80, 1.33, 1.25), STRIDES)}[layout]
    with torch.device("meta"):
        network = YoloV5(architecture, strides)
    real = sum(v.numel() for k, v in network.state_dict().items() if not k.endswith("num_batches_tracked"))
    assert plan_architecture(architecture, strides).weights == real
