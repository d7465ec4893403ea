"""Fuzzing the loader: real EDF, BDF, BrainVision and EEGLAB files, mutated by hypothesis.

Loading a mutated file must either succeed or raise :class:`EEGError`: never another
exception, never a hang over 10 s, never a crash of the interpreter. Each load runs
in a worker process (:mod:`tests.loader_worker`), so a hang or a crash is caught and
reported with the case that caused it, then the worker is replaced.

``EEG_FUZZ_EXAMPLES`` sets the number of cases per fuzz test (default 150: 300 in all).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.config import SAMPLES
from tests.loader_worker import HANG_S, LoaderWorker

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = int(os.environ.get("EEG_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=EXAMPLES <= 150,  # the CI run is the same every time; longer runs explore
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
    print_blob=True,
)


@pytest.fixture(scope="module")
def worker():
    w = LoaderWorker()
    yield w
    w.close()


# --- seeds: real recordings, as (files, index of the file a format calls its header) ---


def _brainvision_from_bundled(folder: Path) -> list[Path]:
    sys.path.insert(0, str(ROOT / "tests" / "e2e"))
    import hostile

    return hostile.brainvision(folder)


@pytest.fixture(scope="module")
def bundled_seeds(tmp_path_factory) -> dict[str, list[Path]]:
    return {
        "edf": [SAMPLES / "S001R04.edf"],
        "eeglab": [SAMPLES / "eeglab_data.set", SAMPLES / "eeglab_data.fdt"],
        "brainvision": _brainvision_from_bundled(tmp_path_factory.mktemp("bv-seed")),
    }


@pytest.fixture(scope="module")
def shared_seeds(shared_data) -> dict[str, list[Path]]:
    bv = shared_data / "brainvision"
    return {
        "bdf": [shared_data / "bdf" / "test_bdf_stim_channel.bdf"],
        "bdf-plus": [shared_data / "bdf" / "multiple_annotation_chans.bdf"],
        "edf-biosemi": [shared_data / "edf_biosemi" / "test.edf"],
        "brainvision": [bv / "test_CA_208.vhdr", bv / "test_CA_208.vmrk", bv / "test_CA_208.eeg"],
    }


# --- mutations ------------------------------------------------------------------------

# Values that have broken parsers before: signs, zeros, huge, non-numbers, separators.
NASTY_TEXT = st.one_of(
    st.sampled_from(
        [
            "0",
            "-1",
            "1",
            "-0",
            "99999999",
            "1e308",
            "-1e308",
            "nan",
            "inf",
            "",
            " ",
            "+",
            ".",
            "0.0",
            "1e-320",
            "2147483648",
            "../../etc/passwd",
            "/etc/passwd",
            "a.eeg",
            "\x00",
        ]
    ),
    st.integers(-(2**40), 2**40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(st.characters(codec="latin-1"), max_size=12),
)


def _edf_field_spans(data: bytes) -> list[tuple[int, int]]:
    """(start, width) of every ASCII field of an EDF/BDF header."""
    spans = [(0, 8), (8, 80), (88, 80), (168, 8), (176, 8), (184, 8), (192, 44), (236, 8), (244, 8), (252, 4)]
    try:
        n = int(data[252:256])
    except ValueError:
        return spans
    offset = 256
    for width in (16, 80, 8, 8, 8, 8, 8, 80, 8, 32):
        spans += [(offset + i * width, width) for i in range(n)]
        offset += n * width
    return spans


@st.composite
def mutate_bytes(draw, data: bytes, header_len: int) -> bytes:
    """One raw mutation, aimed at the header or the body."""
    data = bytearray(data)
    in_header = draw(st.booleans()) or len(data) <= header_len
    lo, hi = (0, max(1, min(header_len, len(data)))) if in_header else (header_len, len(data))
    pos = draw(st.integers(lo, hi - 1))
    kind = draw(st.sampled_from(["overwrite", "flip", "truncate", "insert", "delete", "zero"]))
    if kind == "overwrite":
        data[pos : pos + 1] = b""
        data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
    elif kind == "flip":
        data[pos] ^= 1 << draw(st.integers(0, 7))
    elif kind == "truncate":
        del data[pos:]
    elif kind == "insert":
        data[pos:pos] = draw(st.binary(min_size=1, max_size=64))
    elif kind == "delete":
        del data[pos : pos + draw(st.integers(1, 512))]
    else:
        end = pos + draw(st.integers(1, 4096))
        data[pos:end] = bytes(len(data[pos:end]))
    return bytes(data)


@st.composite
def mutate_edf_header(draw, data: bytes) -> bytes:
    """Rewrite one header field with a nasty value (left-aligned, space-padded, as EDF does)."""
    start, width = draw(st.sampled_from(_edf_field_spans(data)))
    value = draw(NASTY_TEXT).encode("latin-1", "replace")[:width].ljust(width)
    return data[:start] + value + data[start + width :]


@st.composite
def mutate_text_header(draw, data: bytes) -> bytes:
    """Change one ``key=value`` line of a BrainVision header or marker file, or drop/duplicate a line."""
    lines = data.decode("latin-1").splitlines()
    i = draw(st.integers(0, len(lines) - 1))
    kind = draw(st.sampled_from(["value", "value", "value", "drop", "duplicate", "garble"]))
    if kind == "value" and "=" in lines[i]:
        key = lines[i].split("=", 1)[0]
        parts = lines[i].split("=", 1)[1].split(",")
        j = draw(st.integers(0, len(parts) - 1))
        parts[j] = draw(NASTY_TEXT)
        lines[i] = key + "=" + ",".join(parts)
    elif kind == "drop":
        del lines[i]
    elif kind == "duplicate":
        lines.insert(i, lines[i])
    else:
        lines[i] = draw(NASTY_TEXT)
    return ("\r\n".join(lines) + "\r\n").encode("latin-1", "replace")


@st.composite
def mutate_eeglab(draw, data: bytes, folder: Path) -> bytes:
    """Change one field of the EEG structure of a .set file and save it again."""
    import numpy as np
    import scipy.io

    src = folder / "orig.set"
    src.write_bytes(data)
    mat = scipy.io.loadmat(src, squeeze_me=False, struct_as_record=True)
    eeg = mat["EEG"]
    fields = [
        f
        for f in eeg.dtype.names
        if f
        in (
            "nbchan",
            "srate",
            "pnts",
            "trials",
            "xmin",
            "xmax",
            "data",
            "datfile",
            "chanlocs",
            "event",
            "times",
            "icaweights",
            "icasphere",
            "icawinv",
            "icachansind",
        )
    ]
    field = draw(st.sampled_from(fields))
    value = draw(
        st.one_of(
            st.sampled_from([0, -1, 1, 2**31, float("nan"), float("inf"), 1e12, -0.5]),
            st.integers(-(2**31), 2**31),
            st.floats(allow_nan=True, allow_infinity=True),
            NASTY_TEXT,
            st.just(np.zeros((0, 0))),
            st.just(np.ones((2, 3))),
        )
    )
    eeg[field][0, 0] = np.array(value) if not isinstance(value, np.ndarray) else value
    out = folder / "mutated.set"
    variables = {k: v for k, v in mat.items() if not k.startswith("__")}  # loadmat's own header entries
    scipy.io.savemat(out, variables, format="5", do_compression=draw(st.booleans()))
    folder.joinpath("mutation.txt").write_text(f"EEG.{field} = {value!r}")
    return out.read_bytes()


def _header_len(name: str, data: bytes) -> int:
    if name.lower().endswith((".edf", ".bdf")):
        try:
            return int(data[184:192])
        except ValueError:
            return 256
    if name.lower().endswith((".vhdr", ".vmrk")):
        return len(data)
    return min(len(data), 4096)


@st.composite
def mutated_recording(draw, seeds: dict[str, list[Path]], folder: Path):
    """A seed recording with one of its files mutated; returns (paths, description)."""
    kind = draw(st.sampled_from(sorted(seeds)))
    files = seeds[kind]
    target = draw(st.sampled_from(files))
    data = target.read_bytes()
    name = target.name.lower()
    how = draw(st.sampled_from(["structured", "bytes"]))
    case = folder / f"case-{draw(st.integers(0, 2**62))}"
    case.mkdir()
    if how == "structured" and name.endswith((".edf", ".bdf")):
        mutated = draw(mutate_edf_header(data))
    elif how == "structured" and name.endswith((".vhdr", ".vmrk")):
        mutated = draw(mutate_text_header(data))
    elif how == "structured" and name.endswith(".set"):
        mutated = draw(mutate_eeglab(data, case))
    else:
        mutated = draw(mutate_bytes(data, _header_len(name, data)))
    paths = []
    for f in files:
        dst = case / f.name
        if f == target:
            dst.write_bytes(mutated)
        else:
            dst.symlink_to(f)
        paths.append(dst)
    note = case / "mutation.txt"
    detail = f" ({note.read_text()})" if note.exists() else ""
    return paths, f"{kind}: {how} mutation of {target.name}{detail}"


def _check(worker, case) -> None:
    paths, what = case
    result = worker.load(paths)
    assert result["status"] in ("ok", "EEGError"), f"{what}: {result}"
    if result["status"] == "EEGError":
        assert "\n" not in result["message"] and result["message"].strip(), f"{what}: {result}"


@pytest.mark.slow
@FUZZ
@given(data=st.data())
def test_mutated_bundled_recordings_load_or_raise_eegerror(worker, bundled_seeds, tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("fuzz", numbered=True)
    _check(worker, data.draw(mutated_recording(bundled_seeds, folder)))


@pytest.mark.slow
@FUZZ
@given(data=st.data())
def test_mutated_shared_recordings_load_or_raise_eegerror(worker, shared_seeds, tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("fuzz", numbered=True)
    _check(worker, data.draw(mutated_recording(shared_seeds, folder)))


def test_worker_reports_a_hang_and_a_crash(physionet_file):
    """The guard itself: a load that never returns, and one that kills the process, are caught."""
    stuck = LoaderWorker(
        "import sys, time\nprint('ready', flush=True)\nsys.stdin.readline()\ntime.sleep(60)", hang_s=1.0
    )
    assert stuck.load([physionet_file])["status"] == "hang"
    dies = LoaderWorker("import os, sys\nprint('ready', flush=True)\nsys.stdin.readline()\nos._exit(-11 % 256)")
    assert dies.load([physionet_file])["status"] == "crash"
    real = LoaderWorker()
    assert real.load([physionet_file])["status"] == "ok"
    real.close()


# --- regressions: cases fuzzing found, fixed in backend/io.py -------------------------


def _copy_with(tmp_path: Path, files: list[Path], target: str, data: bytes) -> list[Path]:
    out = []
    for f in files:
        dst = tmp_path / f.name
        dst.write_bytes(data if f.name == target else f.read_bytes())
        out.append(dst)
    return out


def test_eeglab_data_file_shorter_than_its_header_is_refused(bundled_seeds, tmp_path):
    """A cut .fdt made MNE raise RuntimeError ("Incorrect number of samples") while scanning for NaN.

    (A cut BrainVision .eeg is a shorter recording, not an error: its header states no length.)
    """
    from backend.errors import EEGError
    from backend.io import load_recording

    files = bundled_seeds["eeglab"]
    data_file = next(f for f in files if f.suffix == ".fdt")
    cut = data_file.read_bytes()[:1024]
    with pytest.raises(EEGError, match="data shorter than the header claims"):
        load_recording(_copy_with(tmp_path, files, data_file.name, cut))


def _eeglab_with(tmp_path: Path, bundled_seeds, **fields) -> list[Path]:
    import numpy as np
    import scipy.io

    set_path, fdt = bundled_seeds["eeglab"]
    mat = scipy.io.loadmat(set_path, squeeze_me=False, struct_as_record=True)
    for field, value in fields.items():
        mat["EEG"][field][0, 0] = np.array(value)
    scipy.io.savemat(tmp_path / set_path.name, {k: v for k, v in mat.items() if not k.startswith("__")}, format="5")
    (tmp_path / fdt.name).symlink_to(fdt)
    return [tmp_path / set_path.name, tmp_path / fdt.name]


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"trials": 2**31}, "data shorter than the header claims"),  # made MNE's reader hang (> 10 s, growing memory)
        ({"trials": float("nan")}, "trials is nan, not a positive whole number"),
        ({"nbchan": -1}, "nbchan is -1, not a positive whole number"),
        ({"pnts": "many"}, "pnts is missing or not a number"),
    ],
)
def test_eeglab_header_with_impossible_sizes_is_refused_at_once(bundled_seeds, tmp_path, fields, message):
    import time

    from backend.errors import EEGError
    from backend.io import load_recording

    files = _eeglab_with(tmp_path, bundled_seeds, **fields)
    began = time.perf_counter()
    with pytest.raises(EEGError, match=message):
        load_recording(files)
    assert time.perf_counter() - began < HANG_S
