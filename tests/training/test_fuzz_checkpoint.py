"""Hostile checkpoint files: whatever the bytes, load_checkpoint answers with a model or one line naming the file.

Hypothesis feeds ``load_checkpoint`` truncated, bit-flipped, random and crafted files built from real
checkpoints of every model kind. The only acceptable outcomes are a loaded :class:`Checkpoint` or a
:class:`CheckpointError` whose message is one line starting with the path. Files that declare huge
sizes must not cost memory of that size, and a pickle must never be executed. The number of inputs
tried is printed at the end of the module and written to ``<pytest basetemp>/fuzz_counts.json``.
"""
from __future__ import annotations

import collections
import contextlib
import json
import math
import os
import pickle
import resource
import struct
import tracemalloc
from pathlib import Path
from typing import Any, Iterator

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from safetensors.torch import save as safetensors_bytes

from aeviewer.errors import CheckpointError
from aeviewer.models import KINDS, build_model, default_config
from aeviewer.models.config import ModelConfig
from aeviewer.training.checkpoint import Checkpoint, load_checkpoint, save_checkpoint

FUZZ = settings(derandomize=True, database=None, deadline=None, max_examples=150,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])
TRIED: collections.Counter[str] = collections.Counter()  # inputs handed to load_checkpoint, per family


# -- seeds: real checkpoints of every kind (untrained; tiny so one load takes milliseconds) ----------
def _seed_model(kind: str) -> torch.nn.Module:
    torch.manual_seed(0)
    config = default_config(kind, image_shape=(1, 8, 8), hidden=(8,), latent_dim=2, codebook_size=4,
                            code_dim=2, channels=(2, 2))
    return build_model(config)


def _seed_bytes(kind: str, folder: Path) -> bytes:
    path = save_checkpoint(folder / f"{kind}.safetensors", _seed_model(kind), dataset="digits",
                           metrics={"recon_mse": 0.1}, history=[{"epoch": 1, "total": 2.0}], extra={"note": "seed"})
    return path.read_bytes()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("fuzz_checkpoint")
    yield folder
    _report(tmp_path_factory.getbasetemp(), request)


def _report(basetemp: Path, request: pytest.FixtureRequest) -> None:
    """Print the tally even without -s, and keep it as JSON beside the test's temp folders."""
    record = basetemp / "fuzz_counts.json"
    counts = json.loads(record.read_text()) if record.exists() else {}
    counts["load_checkpoint"] = dict(TRIED, total=sum(TRIED.values()))
    record.write_text(json.dumps(counts, indent=1))
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print(f"\nfuzz: load_checkpoint tried {sum(TRIED.values())} inputs {dict(TRIED)} -> {record}")


SEEDS: dict[str, bytes] = {}


@pytest.fixture(scope="module")
def seeds(workdir: Path) -> dict[str, bytes]:
    if not SEEDS:
        SEEDS.update({kind: _seed_bytes(kind, workdir) for kind in KINDS})
    return SEEDS


def _parts(data: bytes) -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    """Metadata and tensors of a valid checkpoint's bytes (parsed the safe way)."""
    from safetensors.torch import load as tensors_from_bytes

    header_len = struct.unpack("<Q", data[:8])[0]
    metadata = json.loads(data[8:8 + header_len])["__metadata__"]
    return dict(metadata), tensors_from_bytes(data)


# -- the oracle ---------------------------------------------------------------------------------------
def attempt(folder: Path, data: bytes, family: str, name: str = "model.safetensors") -> Checkpoint | CheckpointError:
    """Write ``data`` and load it: a Checkpoint or a one-line CheckpointError naming the file; nothing else."""
    path = folder / name
    path.write_bytes(data)
    TRIED[family] += 1
    try:
        return load_checkpoint(path)
    except CheckpointError as err:
        message = str(err)
        assert message.splitlines() == [message], f"not one line: {message!r}"  # \n, \r, \x85, \u2028...
        assert message.startswith(f"{path}: "), f"message does not name the file: {message!r}"
        return err
    except Exception as err:  # noqa: BLE001 -- the point of the test: any other type is a bug
        pytest.fail(f"{family}: {type(err).__name__} escaped load_checkpoint: {err!r}; input {data[:300]!r}...")


# -- strategies for hostile bytes -----------------------------------------------------------------------
seed_kinds = st.sampled_from(KINDS)


def _header_end(data: bytes) -> int:
    return 8 + struct.unpack("<Q", data[:8])[0]


@st.composite
def truncated(draw: st.DrawFn, seeds: dict[str, bytes]) -> bytes:
    data = seeds[draw(seed_kinds)]
    return data[:draw(st.integers(0, len(data) - 1))]


@st.composite
def bit_flipped(draw: st.DrawFn, seeds: dict[str, bytes]) -> bytes:
    data = bytearray(seeds[draw(seed_kinds)])
    # Half the flips land in the length field and JSON header, where a flip changes what the file claims.
    where = st.one_of(st.integers(0, _header_end(data) - 1), st.integers(0, len(data) - 1))
    for position, bit in draw(st.lists(st.tuples(where, st.integers(0, 7)), min_size=1, max_size=8)):
        data[position] ^= 1 << bit
    return bytes(data)


@st.composite
def random_files(draw: st.DrawFn) -> bytes:
    body = draw(st.binary(max_size=2048))
    # A plausible little-endian header length in front lets the parser get past its first check.
    prefix = draw(st.one_of(st.just(b""), st.integers(0, len(body) + 16).map(lambda n: struct.pack("<Q", n))))
    return prefix + body


DTYPE_SIZES = {"BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
               "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8, "C64": 8}
HUGE_INTS = [2**31 - 1, 2**31, 2**32 - 1, 2**32, 2**53 + 1, 2**63 - 1, 2**63, 2**64 - 1, 2**64, 10**30]
dims = st.one_of(st.integers(0, 6), st.sampled_from(HUGE_INTS), st.integers(-3, -1))
POISON = [float("nan"), float("inf"), float("-inf"), 10**400, -(10**30), 1e308, 0.5]  # break int()/float() casts
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10, 10), st.sampled_from(HUGE_INTS + POISON),
                         st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8))
# JSON-ish text that a parser chokes on in odd ways: nesting past the recursion limit, 5,000-digit numbers.
json_bombs = st.sampled_from(["[" * 100_000 + "]" * 100_000, '{"a":' * 50_000 + "1" + "}" * 50_000, "1" * 5000,
                              "NaN", "-Infinity", "\\ud800", '"\\ud800"', "", "{", "[]", "{}", "null", '"x"'])
json_values = st.recursive(json_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                                  st.dictionaries(st.text(max_size=6), inner, max_size=4)),
                           max_leaves=12)


@st.composite
def tensor_entries(draw: st.DrawFn, cursor: list[int]) -> Any:
    dtype = draw(st.one_of(st.sampled_from(sorted(DTYPE_SIZES)), st.sampled_from(["F4", "XYZ", "", "f32"])))
    shape = draw(st.lists(dims, max_size=4))
    count = math.prod(shape) if all(d >= 0 for d in shape) else 0
    size = count * DTYPE_SIZES.get(dtype, 4)
    consistent = [cursor[0], cursor[0] + size]
    offsets = draw(st.one_of(
        st.just(consistent),  # honest layout (until the body is cut or padded)
        st.just([0, size]),  # overlaps the first tensor
        st.lists(st.one_of(st.integers(0, 64), st.sampled_from(HUGE_INTS), st.integers(-5, -1)), min_size=0, max_size=3),
    ))
    cursor[0] = consistent[1] if size < 2**20 else cursor[0]
    entry: Any = {"dtype": dtype, "shape": shape, "data_offsets": offsets}
    if draw(st.integers(0, 9)) == 0:  # sometimes not an entry at all, or one with a wrong-typed field
        entry = draw(st.one_of(json_values, st.builds(lambda v: {**entry, "shape": v}, json_values)))
    return entry


def aeviewer_metadata(seeds: dict[str, bytes]) -> st.SearchStrategy[dict[str, str]]:
    return seed_kinds.map(lambda kind: _parts(seeds[kind])[0])


@st.composite
def crafted_headers(draw: st.DrawFn, seeds: dict[str, bytes]) -> bytes:
    """A safetensors container written by hand: offsets past the end or overlapping, huge shapes, odd dtypes."""
    cursor = [0]
    names = draw(st.lists(st.text(min_size=1, max_size=12), max_size=5, unique=True))
    header: dict[str, Any] = {name: draw(tensor_entries(cursor)) for name in names}
    metadata = draw(st.one_of(aeviewer_metadata(seeds), st.dictionaries(st.text(max_size=8), st.text(max_size=8)),
                              json_values, st.none()))
    if metadata is not None:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    if draw(st.booleans()):  # non-UTF-8 or control bytes spliced into the JSON
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\x00", b"\xed\xa0\x80", b"\x80"])) + text[at:]
    length = draw(st.one_of(st.just(len(text)), st.integers(0, len(text) + 4096), st.sampled_from(HUGE_INTS[:-1])))
    length = min(length, 2**64 - 1)
    body = bytes(draw(st.one_of(st.just(cursor[0]), st.integers(0, cursor[0] + 64))))
    return struct.pack("<Q", length) + text + body


TORCH_DTYPES = [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64, torch.int32, torch.int8,
                torch.uint8, torch.bool, torch.uint16, torch.uint32, torch.float8_e4m3fn, torch.complex64]
CONFIG_FIELDS = [name for name in ModelConfig.__dataclass_fields__] + ["layers", "Kind", ""]
NUMERIC_FIELDS = [name for name, value in ModelConfig().to_dict().items() if type(value) in (int, float)]
METADATA_KEYS = ["format", "format_version", "config", "dataset", "metrics", "history", "extra"]


def _json_text(value: Any) -> str:
    return json.dumps(value)  # NaN and Infinity come out as the bare words Python's json accepts


@st.composite
def lying_configs(draw: st.DrawFn, seeds: dict[str, bytes]) -> bytes:
    """A well-formed checkpoint whose config lies: wrong types, NaN or 400-digit sizes, unknown fields, newer versions."""
    metadata, tensors = _parts(seeds[draw(seed_kinds)])
    config = json.loads(metadata["config"])
    for _ in range(draw(st.integers(1, 3))):
        action = draw(st.sampled_from(["numeric", "any_field", "drop", "version"]))
        if action == "numeric":  # integer and float fields get the values that break int() and float()
            config[draw(st.sampled_from(NUMERIC_FIELDS))] = draw(st.sampled_from(POISON + HUGE_INTS) | json_values)
        elif action == "any_field":
            config[draw(st.sampled_from(CONFIG_FIELDS))] = draw(json_values)
        elif action == "drop" and config:
            config.pop(draw(st.sampled_from(sorted(config))))
        elif action == "version":
            config["version"] = draw(st.one_of(st.integers(2, 10**6), json_values))
    metadata["config"] = draw(st.just(_json_text(config)) | st.just(_json_text(draw(json_values))))
    return safetensors_bytes(tensors, metadata)


@st.composite
def lying_records(draw: st.DrawFn, seeds: dict[str, bytes]) -> bytes:
    """A well-formed safetensors file whose records lie: bad or mistyped JSON, missing keys, and tensors of other
    shapes, dtypes or names than the config implies."""
    metadata, tensors = _parts(seeds[draw(seed_kinds)])
    for _ in range(draw(st.integers(1, 3))):
        action = draw(st.sampled_from(["meta_text", "meta_json", "meta_drop", "tensor_drop", "tensor_add",
                                       "tensor_shape", "tensor_dtype"]))
        if action == "meta_text":
            metadata[draw(st.sampled_from(METADATA_KEYS))] = draw(st.one_of(st.text(max_size=40), json_bombs))
        elif action == "meta_json":
            metadata[draw(st.sampled_from(METADATA_KEYS))] = _json_text(draw(json_values))
        elif action == "meta_drop":
            metadata.pop(draw(st.sampled_from(METADATA_KEYS)), None)
        elif action == "tensor_drop" and tensors:
            tensors.pop(draw(st.sampled_from(sorted(tensors))))
        elif action == "tensor_add":
            tensors[draw(st.text(min_size=1, max_size=20))] = torch.zeros(draw(st.lists(st.integers(0, 3), max_size=3)))
        elif action == "tensor_shape" and tensors:
            name = draw(st.sampled_from(sorted(tensors)))
            tensors[name] = torch.zeros(draw(st.lists(st.integers(0, 9), max_size=4)))
        elif action == "tensor_dtype" and tensors:
            name = draw(st.sampled_from(sorted(tensors)))
            tensors[name] = tensors[name].to(draw(st.sampled_from(TORCH_DTYPES)))
    return safetensors_bytes(tensors, metadata)


# -- the fuzz tests -------------------------------------------------------------------------------------
def test_seed_checkpoints_load(workdir, seeds):
    # The oracle must accept the real thing, or every refusal below would prove nothing.
    for kind, data in seeds.items():
        loaded = attempt(workdir, data, "seed")
        assert isinstance(loaded, Checkpoint) and loaded.config.kind == kind


@FUZZ
@given(data=st.data())
def test_truncated_files_are_refused(workdir, seeds, data):
    assert isinstance(attempt(workdir, data.draw(truncated(seeds)), "truncated"), CheckpointError)


@FUZZ
@given(data=st.data())
def test_bit_flipped_files_load_or_are_refused(workdir, seeds, data):
    attempt(workdir, data.draw(bit_flipped(seeds)), "bit_flipped")


@FUZZ
@given(blob=random_files())
def test_random_bytes_are_refused(workdir, blob):
    assert isinstance(attempt(workdir, blob, "random"), CheckpointError)


@FUZZ
@given(data=st.data())
def test_crafted_safetensors_headers_are_refused(workdir, seeds, data):
    # No honest header here holds the tensors an aeviewer config needs, so nothing may load.
    assert isinstance(attempt(workdir, data.draw(crafted_headers(seeds)), "crafted_header"), CheckpointError)


@FUZZ
@given(data=st.data())
def test_records_that_lie_load_or_are_refused(workdir, seeds, data):
    attempt(workdir, data.draw(lying_records(seeds)), "lying_records")


@FUZZ
@given(data=st.data())
def test_configs_that_lie_load_or_are_refused(workdir, seeds, data):
    attempt(workdir, data.draw(lying_configs(seeds)), "lying_config")


# -- huge declared sizes: memory must follow the file, not its claims ------------------------------------
@contextlib.contextmanager
def address_space_headroom(extra: int) -> Iterator[None]:
    """Cap this process's address space at its current size + ``extra`` bytes (torch's allocator is invisible
    to tracemalloc, so a native allocation of the declared size has to fail loudly instead)."""
    if not Path("/proc/self/statm").exists():  # not Linux: tracemalloc alone has to do
        yield
        return
    with open("/proc/self/statm") as f:
        current = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = current + extra if hard == resource.RLIM_INFINITY else min(hard, current + extra)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


HUGE_DIMS = st.sampled_from([10**5, 10**6, 10**7, 10**9, 2**31, 10**12, 10**15])


@st.composite
def huge_configs(draw: st.DrawFn, seeds: dict[str, bytes]) -> bytes:
    kind = draw(seed_kinds)
    metadata, tensors = _parts(seeds[kind])
    config = json.loads(metadata["config"])
    field = draw(st.sampled_from(["latent_dim", "hidden", "channels", "image_shape", "codebook_size", "code_dim",
                                  "n_classes"]))
    big = draw(HUGE_DIMS)
    config[field] = {"hidden": [big], "channels": [big, big], "image_shape": [1, big, big]}.get(field, big)
    metadata["config"] = json.dumps(config)
    return safetensors_bytes(tensors, metadata)


@st.composite
def huge_headers(draw: st.DrawFn, seeds: dict[str, bytes]) -> bytes:
    shape = draw(st.lists(HUGE_DIMS, min_size=1, max_size=3))
    header = {"w": {"dtype": "F32", "shape": shape, "data_offsets": [0, draw(st.sampled_from([16, 2**40, 2**62]))]},
              "__metadata__": draw(aeviewer_metadata(seeds))}
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + bytes(16)


@settings(FUZZ, max_examples=60)
@given(data=st.data())
def test_huge_declared_sizes_cost_no_memory_of_that_size(workdir, seeds, data):
    blob = data.draw(st.one_of(huge_configs(seeds), huge_headers(seeds)))
    tracemalloc.start()
    try:
        with address_space_headroom(512 * 2**20):
            outcome = attempt(workdir, blob, "huge_declared")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    if isinstance(outcome, Checkpoint):  # the field meant nothing to this kind (channels of an mlp): fine if small
        weights = sum(t.numel() * t.element_size() for t in outcome.model.state_dict().values())
        assert weights <= len(blob), f"a {len(blob)}-byte file gave a model of {weights} bytes"
    assert peak < 16 * 2**20, f"peak {peak} bytes traced for a {len(blob)}-byte file"


# -- pickles, and things that are not files ------------------------------------------------------------
class WritesMarker:
    """Unpickling this object writes a file: the proof that a loader executed code from the file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.write_text, (self.marker, "code from a checkpoint file ran"))


def test_the_marker_payload_is_live(tmp_path):
    # Guard against a dud payload: unpickling it directly does write the marker.
    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps(WritesMarker(marker)))
    assert marker.exists()


@FUZZ
@given(protocol=st.integers(0, pickle.HIGHEST_PROTOCOL), wrap=st.sampled_from(["bare", "torch.save", "prefixed"]),
       junk=st.binary(max_size=64))
def test_pickles_renamed_safetensors_never_run(workdir, protocol, wrap, junk):
    marker = workdir / "marker_written_by_pickle"
    payload = {"state_dict": WritesMarker(marker), "weight": torch.zeros(2)}
    if wrap == "torch.save":  # the zip-of-pickles a .pt file holds
        buffer = workdir / "payload.pt"
        torch.save(payload, buffer, pickle_protocol=max(protocol, 2))
        blob = buffer.read_bytes()
    else:
        blob = pickle.dumps(payload, protocol=protocol)
    if wrap == "prefixed":  # a plausible safetensors length in front of the pickle
        blob = struct.pack("<Q", len(blob)) + blob + junk
    outcome = attempt(workdir, blob, "pickle")
    assert isinstance(outcome, CheckpointError)
    assert not marker.exists(), "load_checkpoint executed code from a pickle"


def test_things_that_are_not_checkpoint_files(workdir, seeds):
    odd = workdir / "odd"
    odd.mkdir()
    (odd / "folder.safetensors").mkdir()
    (odd / "loop.safetensors").symlink_to(odd / "loop.safetensors")
    (odd / "a.safetensors").symlink_to(odd / "b.safetensors")
    (odd / "b.safetensors").symlink_to(odd / "a.safetensors")
    (odd / "dangling.safetensors").symlink_to(odd / "absent")
    (odd / "empty.safetensors").write_bytes(b"")
    os.mkfifo(odd / "fifo.safetensors")
    (odd / "target.safetensors").write_bytes(seeds["ae"][:100])
    (odd / "link.safetensors").symlink_to(odd / "target.safetensors")
    candidates = [*sorted(odd.iterdir()), odd / ("x" * 300 + ".safetensors"), odd / "missing" / "m.safetensors"]
    for path in candidates:
        TRIED["not_a_file"] += 1
        with pytest.raises(CheckpointError) as err:
            load_checkpoint(path)
        message = str(err.value)
        assert "\n" not in message and message.startswith(f"{path}: "), message


@pytest.mark.slow
@settings(FUZZ, max_examples=1500)
@given(data=st.data())
def test_mixed_hostile_files_long_run(workdir, seeds, data):
    blob = data.draw(st.one_of(truncated(seeds), bit_flipped(seeds), random_files(), crafted_headers(seeds),
                               lying_records(seeds), lying_configs(seeds)))
    attempt(workdir, blob, "mixed_slow")
