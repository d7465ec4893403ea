"""Broken recordings made from real ones: the Foundation issue's bad-input list.

Each case is built from a bundled sample (so it exists on every machine): the
PhysioNet EDF, the EEGLAB tutorial ``.set``/``.fdt``, and a BrainVision export
of the PhysioNet run written with :func:`backend.io.export_recording`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from backend.config import SAMPLES
from backend.io import export_recording, load_recording

EDF = SAMPLES / "S001R04.edf"
EEGLAB = [SAMPLES / "eeglab_data.set", SAMPLES / "eeglab_data.fdt"]


@dataclass
class Case:
    label: str
    files: list[Path]
    refused: bool = True  # False: it loads, with a warning


def _edf_field(header: bytes, start: int, width: int, value: str) -> bytes:
    return header[:start] + value.ljust(width).encode("ascii") + header[start + width :]


def brainvision(folder: Path) -> list[Path]:
    """A real BrainVision recording (.vhdr, .vmrk, .eeg): 10 s of the PhysioNet run."""
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "bv.vhdr").exists():
        rec = load_recording([EDF])
        raw = rec.raw.copy().crop(0, 10)
        export_recording(rec.with_raw(raw, rec.history[0]), folder / "bv.vhdr")
    return [folder / "bv.vhdr", folder / "bv.vmrk", folder / "bv.eeg"]


def _vhdr_pointing_to(folder: Path, target: str) -> list[Path]:
    """A BrainVision set whose header names ``target`` as its data file."""
    vhdr, vmrk, eeg = brainvision(folder / "bv-real")
    out = folder / f"bv-{abs(hash(target))}"
    out.mkdir(exist_ok=True)
    text = vhdr.read_text(encoding="latin-1")
    lines = [f"DataFile={target}" if ln.startswith("DataFile=") else ln for ln in text.splitlines()]
    (out / "bv.vhdr").write_text("\n".join(lines) + "\n", encoding="latin-1")
    for f in (vmrk, eeg):
        (out / f.name).write_bytes(f.read_bytes())
    return [out / "bv.vhdr", out / "bv.vmrk", out / "bv.eeg"]


def cases(folder: Path) -> list[Case]:
    """Every bad-input case of the Foundation issue, each as files in its own folder of ``folder``."""
    edf = EDF.read_bytes()
    n_signals = int(edf[252:256])
    header_bytes = 256 * (n_signals + 1)
    made: list[Case] = []

    def write(label: str, name: str, data: bytes, refused: bool = True) -> None:
        sub = folder / label
        sub.mkdir(parents=True, exist_ok=True)
        (sub / name).write_bytes(data)
        made.append(Case(label, [sub / name], refused))

    write("unknown-format", "recording.xyz", edf[:4096])
    write("empty-file", "empty.edf", b"")
    write("text-renamed-edf", "notes.edf", b"Session notes: eyes closed at 12 s, blink at 30 s.\n" * 40)
    write("truncated-header", "cut.edf", edf[:200])
    write("corrupted-header", "corrupt.edf", _edf_field(edf[:256], 184, 8, "garbage!") + edf[256:])
    write("data-shorter-than-header", "short.edf", edf[: header_bytes + (len(edf) - header_bytes) // 2])
    zero_ch = _edf_field(_edf_field(edf[:256], 252, 4, "0"), 184, 8, "256")
    write("zero-channels", "nochannels.edf", zero_ch + edf[header_bytes : header_bytes + 4096])
    write("zero-samples", "nosamples.edf", _edf_field(edf[:header_bytes], 236, 8, "0"))

    vhdr, vmrk, eeg = brainvision(folder / "bv-real")
    for label, files in (("brainvision-without-eeg", [vhdr, vmrk]), ("brainvision-without-vmrk", [vhdr, eeg])):
        made.append(Case(label, files))
    made.append(Case("brainvision-datafile-parent-path", _vhdr_pointing_to(folder, "../../etc/passwd")))
    made.append(Case("brainvision-datafile-absolute-path", _vhdr_pointing_to(folder, "/etc/passwd")))
    made.append(Case("eeglab-set-without-fdt", [EEGLAB[0]]))

    # NaN/Inf samples: loads, with a warning that says where.
    import mne

    raw = load_recording([EDF]).raw.copy().crop(0, 10).load_data()
    data = raw.get_data()
    data[5, 320:480] = np.nan
    data[9, 800] = np.inf
    nan_raw = mne.io.RawArray(data, raw.info, verbose="error")
    sub = folder / "nan-samples"
    sub.mkdir(parents=True, exist_ok=True)
    nan_raw.save(sub / "nan_raw.fif", overwrite=True, verbose="error")
    made.append(Case("nan-samples", [sub / "nan_raw.fif"], refused=False))
    return made


def over_limit(folder: Path, limit_mb: float) -> Path:
    """An EDF-named file one megabyte over ``limit_mb``: the real header, then padding."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "too_big.edf"
    with open(path, "wb") as f:
        f.write(EDF.read_bytes())
        f.truncate(int((limit_mb + 1) * 1024 * 1024))
    return path
