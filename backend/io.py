"""Load EEG recordings from untrusted files, and export them.

Every reader is MNE-Python's; this module adds what an app facing uploads needs:
format detection from content and extension, companion-file checks, refusal of
headers that point outside the upload, size bounds, lazy reading, and one-line
:class:`EEGError` messages for everything that can go wrong.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import io as _stdio
import re
import shutil
import tempfile
import warnings
import zipfile
from pathlib import Path

import mne
import numpy as np

from backend import channels, isolation
from backend.browse import annotations as notes
from backend.config import max_upload_bytes
from backend.errors import EEGError
from backend.recording import Recording, Step

# Extensions of the file that names a recording (the "primary" file), by format.
PRIMARY_EXTENSIONS = {
    ".vhdr": "BrainVision",
    ".set": "EEGLAB",
    ".edf": "EDF",
    ".bdf": "BDF",
    ".gdf": "GDF",
    ".fif": "FIF",
    ".cnt": "Neuroscan CNT",
    ".txt": "Text",
}
# Files that only travel with a primary one.
COMPANION_EXTENSIONS = {".vmrk", ".eeg", ".fdt", ".21e", ".pnt", ".log"}
EXPORT_FORMATS = {"fif": "FIF", "edf": "EDF", "vhdr": "BrainVision", "set": "EEGLAB"}

_NAN_SCAN_SECONDS = 60.0
_INTEGER_FORMATS = {"EDF", "BDF", "Neuroscan CNT", "Nihon Kohden"}  # cannot hold NaN


# --- finding the recording among the files ---------------------------------------


def _suffix(path: Path) -> str:
    name = path.name.lower()
    return ".fif" if name.endswith(".fif.gz") else path.suffix.lower()


def _is_nihon_kohden(path: Path) -> bool:
    # The device signatures MNE's Nihon Kohden reader accepts.
    with open(path, "rb") as f:
        head = f.read(16)
    return head.startswith((b"EEG-1100", b"EEG-1200", b"EEG-2100", b"QI-403A", b"DAE-2100"))


# Leading bytes that identify a format whatever the file is called.
_MAGIC = (
    (b"0       ", "EDF"),
    (b"\xffBIOSEMI", "BDF"),
    (b"GDF", "GDF"),
    (b"\x00\x00\x00\x64\x00\x00\x00\x1f", "FIF"),  # FIFF file-id tag
    (b"MATLAB 5.0 MAT-file", "EEGLAB"),
    (b"Brain Vision Data Exchange Header", "BrainVision"),
    (b"BrainVision Data Exchange Header", "BrainVision"),
)


def _sniff(path: Path) -> str | None:
    """The format a file's first bytes announce, or None."""
    with open(path, "rb") as f:
        head = f.read(64)
    for magic, fmt in _MAGIC:
        if head.startswith(magic) or (fmt == "BrainVision" and magic in head):
            return fmt
    return None


def _format_of(path: Path) -> str | None:
    """Content first where it is unambiguous (a BDF named .edf), else the extension."""
    by_extension = PRIMARY_EXTENSIONS.get(_suffix(path))
    if by_extension in ("Text", "Neuroscan CNT", "GDF") or (_suffix(path) in COMPANION_EXTENSIONS):
        return by_extension
    return _sniff(path) or by_extension


def _primary_file(paths: list[Path]) -> tuple[Path, str]:
    """The file naming the recording, and its format."""
    primaries = [(p, fmt) for p in paths if (fmt := _format_of(p))]
    if not primaries:
        nihon = [p for p in paths if _suffix(p) == ".eeg" and _is_nihon_kohden(p)]
        primaries = [(p, "Nihon Kohden") for p in nihon]
    if not primaries:
        names = ", ".join(p.name for p in paths)
        if any(_suffix(p) in COMPANION_EXTENSIONS for p in paths):
            raise EEGError(
                f"{names}: these are companion files; upload them with their header "
                "(.vhdr for BrainVision, .set for EEGLAB, .EEG for Nihon Kohden)"
            )
        raise EEGError(
            f"unknown format: {names}; supported are EDF/EDF+, BDF, GDF, FIF, BrainVision, "
            "EEGLAB, Nihon Kohden, Neuroscan CNT and one-column text"
        )
    if len(primaries) > 1:
        names = ", ".join(p.name for p, _ in primaries)
        raise EEGError(f"these files hold more than one recording ({names}); load one at a time")
    return primaries[0]


# Single-file formats only: a header with companions must keep its own name.
_EXTENSION_FOR = {"EDF": ".edf", "BDF": ".bdf", "GDF": ".gdf", "FIF": ".fif"}


@functools.cache
def _link_folder() -> Path:
    """This process's folder for those links, removed when it exits.

    A lazily read recording reads through its link for as long as it is open, so
    links live as long as the process, not as long as the call that made them.
    """
    folder = Path(tempfile.mkdtemp(prefix="eeg-explorer-renamed-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def _with_extension_for(path: Path, fmt: str) -> Path:
    """A path MNE's reader accepts for this format: a link with the right extension if needed.

    MNE's readers check extensions; a recording detected by content under another name
    is read through a symbolic link in a private temporary folder.
    """
    wanted = _EXTENSION_FOR.get(fmt)
    if wanted is None or _suffix(path) == wanted:
        return path
    link = Path(tempfile.mkdtemp(dir=_link_folder())) / (path.stem + wanted)
    link.symlink_to(path.resolve())
    return link


# --- checks at the door ----------------------------------------------------------


def _check_sizes(paths: list[Path], max_bytes: int) -> None:
    total = 0
    for p in paths:
        if not p.is_file():
            raise EEGError(f"{p.name}: no such file")
        size = p.stat().st_size
        if size == 0:
            raise EEGError(f"{p.name} is empty")
        total += size
    if total > max_bytes:
        raise EEGError(f"upload of {total / 2**20:.0f} MB is over the limit of {max_bytes / 2**20:.0f} MB")


def _companion(primary: Path, named: str, paths: list[Path], what: str, look_beside: bool = False) -> Path:
    """The file a header names, among ``paths`` (and beside the header when ``look_beside``).

    Only a plain name in the header's own folder is accepted: a path that leads
    elsewhere is refused, so a header can never make us read another file.
    """
    if not named or "/" in named or "\\" in named or named.startswith(".") or ":" in named:
        raise EEGError(f"{primary.name} names its {what} as {named!r}, a path outside the upload; refused")
    for p in paths:
        if p.name == named or p.name.lower() == named.lower():
            return p
    if look_beside:
        for p in primary.parent.iterdir():
            if p.name.lower() == named.lower() and p.is_file():
                return p
        raise EEGError(f"{primary.name} needs its {what} {named}, which was not found beside it")
    raise EEGError(f"{primary.name} needs its {what} {named}, which was not uploaded with it")


def _check_brainvision(vhdr: Path, paths: list[Path], look_beside: bool = False) -> list[Path]:
    """Check a BrainVision header and return its data and marker files."""
    text = vhdr.read_bytes()[:65536].decode("latin-1")
    if "Brain Vision" not in text and "BrainVision" not in text:
        raise EEGError(f"{vhdr.name} is not a BrainVision header")
    found = []
    for key, what in (("DataFile", "data file (.eeg)"), ("MarkerFile", "marker file (.vmrk)")):
        match = re.search(rf"^\s*{key}\s*=\s*(.*?)\s*$", text, re.MULTILINE)
        if match is None:
            raise EEGError(f"{vhdr.name} names no {key}; the header is incomplete")
        found.append(_companion(vhdr, match.group(1), paths, what, look_beside))
    return found


def _check_eeglab(set_path: Path, paths: list[Path], look_beside: bool = False) -> Path | None:
    """Check an EEGLAB header and return its data file (None when the data are inside the .set).

    Runs only in a child process (:func:`convert_eeglab`).
    """
    import scipy.io

    try:
        mat = scipy.io.loadmat(
            set_path,
            squeeze_me=True,
            struct_as_record=False,
            variable_names=["EEG", "data", "datfile", "nbchan", "pnts", "trials"],
        )
    except NotImplementedError:
        raise EEGError(f"{set_path.name} is a MATLAB v7.3 file; save it from EEGLAB as version 7 or older") from None
    except MemoryError:  # the child's limit: reported as such by backend.isolation
        raise
    except Exception as exc:  # scipy raises several types for a damaged file
        raise EEGError(f"{set_path.name} is not a readable EEGLAB .set file ({_reason(exc)})") from None
    eeg = mat.get("EEG")
    data = getattr(eeg, "data", None) if eeg is not None else mat.get("data")
    if data is None:
        raise EEGError(f"{set_path.name} holds no EEG structure; it is not an EEGLAB dataset")
    # Check the claimed size against the data before MNE allocates it (a forged trials=2**31 hung the reader).
    n_values = np.prod(_eeglab_dims(set_path, eeg if eeg is not None else mat), dtype=object)
    if isinstance(data, str):
        fdt = _companion(set_path, data, paths, "data file (.fdt)", look_beside)
        if fdt.stat().st_size < 4 * n_values:
            raise EEGError(
                f"{set_path.name}: data shorter than the header claims ({fdt.stat().st_size} of {4 * n_values} bytes "
                f"in {fdt.name}); the file is truncated"
            )
        return fdt
    if np.size(data) != n_values:
        raise EEGError(f"{set_path.name}: the header claims {n_values} samples but the file holds {np.size(data)}")
    return None


def _eeglab_dims(set_path: Path, holder) -> list[int]:
    """Channels, points and trials an EEGLAB header claims, each checked to be a positive whole number."""
    dims = []
    for key in ("nbchan", "pnts", "trials"):
        value = holder.get(key) if isinstance(holder, dict) else getattr(holder, key, None)
        try:
            number = float(np.asarray(value, dtype=float).reshape(()))
        except (TypeError, ValueError):
            raise EEGError(f"{set_path.name}: the EEGLAB header's {key} is missing or not a number") from None
        if not (np.isfinite(number) and number >= 1 and number == int(number)):
            raise EEGError(f"{set_path.name}: the EEGLAB header's {key} is {number:g}, not a positive whole number")
        dims.append(int(number))
    return dims


def _edf_header(path: Path, fmt: str) -> dict:
    """The fields of an EDF/BDF header needed to check it against the file size."""
    with open(path, "rb") as f:
        head = f.read(256)
        if len(head) < 256:
            raise EEGError(f"{path.name}: the {fmt} header is truncated ({len(head)} of 256 bytes)")
        magic = head[:8]
        if fmt == "EDF" and magic != b"0       ":
            raise EEGError(f"{path.name} is not an EDF file (its first bytes are not the EDF version field)")
        if fmt == "BDF" and magic != b"\xffBIOSEMI":
            raise EEGError(f"{path.name} is not a BDF file (its first bytes are not the BioSemi signature)")
        try:
            header_bytes = int(head[184:192].decode("ascii"))
            n_records = int(head[236:244].decode("ascii"))
            n_signals = int(head[252:256].decode("ascii"))
        except ValueError:
            raise EEGError(f"{path.name}: the {fmt} header is corrupted (unreadable size fields)") from None
        if n_signals <= 0:
            raise EEGError(f"{path.name} holds zero channels")
        if header_bytes != 256 * (n_signals + 1):
            raise EEGError(f"{path.name}: the {fmt} header is corrupted (its size does not match {n_signals} channels)")
        f.seek(256 + n_signals * 216)
        block = f.read(n_signals * 8)
        if len(block) < n_signals * 8:
            raise EEGError(f"{path.name}: the {fmt} header is truncated")
        try:
            samples = [int(block[i * 8 : i * 8 + 8].decode("ascii")) for i in range(n_signals)]
        except ValueError:
            raise EEGError(f"{path.name}: the {fmt} header is corrupted (unreadable samples per record)") from None
    return {"header_bytes": header_bytes, "n_records": n_records, "samples": samples}


def _check_edf(path: Path, fmt: str) -> None:
    head = _edf_header(path, fmt)
    width = 3 if fmt == "BDF" else 2
    record_bytes = sum(head["samples"]) * width
    available = path.stat().st_size - head["header_bytes"]
    if record_bytes <= 0 or available < record_bytes:
        raise EEGError(f"{path.name} holds zero samples")
    if head["n_records"] > 0 and available < head["n_records"] * record_bytes:
        held = available // record_bytes
        raise EEGError(
            f"{path.name}: data shorter than the header claims "
            f"({held} of {head['n_records']} data records present); the file is truncated"
        )


def _reason(exc: BaseException | str) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


# --- reading ---------------------------------------------------------------------


def _read_text(path: Path) -> mne.io.BaseRaw:
    """One column of samples in µV; the rate comes from the name (``..._200Hz...``)."""
    match = re.search(r"(\d+(?:\.\d+)?)\s*hz", path.name, re.IGNORECASE)
    if match is None:
        raise EEGError(f"{path.name}: a text recording needs its sampling rate in the name, like '_200Hz'")
    try:
        values = np.loadtxt(path, dtype=float, ndmin=2)
    except ValueError:
        raise EEGError(f"{path.name} is not a column of numbers (one sample per line, in µV)") from None
    if values.shape[1] != 1:
        raise EEGError(f"{path.name} has {values.shape[1]} columns; a text recording has one sample per line")
    info = mne.create_info([path.stem[:15]], float(match.group(1)), "eeg")
    return mne.io.RawArray(values.T * 1e-6, info, verbose="error")


def _epochs_as_raw(epochs: mne.BaseEpochs) -> mne.io.BaseRaw:
    """Epochs joined end to end, as EEGLAB shows them, with a boundary at each join."""
    data = epochs.get_data()
    raw = mne.io.RawArray(np.concatenate(list(data), axis=-1), epochs.info, verbose="error")
    n_times = data.shape[-1]
    zero = epochs.time_as_index(0)[0]
    labels = {code: label for label, code in epochs.event_id.items()}
    onsets = [(i * n_times + zero) / epochs.info["sfreq"] for i in range(len(epochs))]
    descriptions = [labels[code] for code in epochs.events[:, 2]]
    joins = [i * n_times / epochs.info["sfreq"] for i in range(1, len(epochs))]
    raw.set_annotations(
        mne.Annotations(onsets + joins, [0.0] * (len(onsets) + len(joins)), descriptions + ["boundary"] * len(joins))
    )
    return raw


def _read(primary: Path, fmt: str) -> tuple[mne.io.BaseRaw, list[str]]:
    """Read any format but EEGLAB with MNE (lazily where it can); return the Raw and the reader's code."""
    q = repr(primary.name)
    if fmt in ("EDF", "BDF", "GDF"):
        reader = {"EDF": mne.io.read_raw_edf, "BDF": mne.io.read_raw_bdf, "GDF": mne.io.read_raw_gdf}[fmt]
        return reader(primary, preload=False), [f"raw = mne.io.{reader.__name__}({q}, preload=True)"]
    if fmt == "FIF":
        return mne.io.read_raw_fif(primary, preload=False), [f"raw = mne.io.read_raw_fif({q}, preload=True)"]
    if fmt == "BrainVision":
        return mne.io.read_raw_brainvision(primary, preload=False), [
            f"raw = mne.io.read_raw_brainvision({q}, preload=True)"
        ]
    if fmt == "Nihon Kohden":
        return mne.io.read_raw_nihon(primary, preload=False), [f"raw = mne.io.read_raw_nihon({q}, preload=True)"]
    if fmt == "Neuroscan CNT":
        return mne.io.read_raw_cnt(primary, preload=False), [f"raw = mne.io.read_raw_cnt({q}, preload=True)"]
    if fmt == "Text":
        raw = _read_text(primary)
        return raw, [
            "import numpy as np",
            f"values = np.loadtxt({q}, ndmin=2)",
            f"raw = mne.io.RawArray(values.T * 1e-6, mne.create_info([{primary.stem[:15]!r}], "
            f"{raw.info['sfreq']!r}, 'eeg'))",
        ]
    raise EEGError(f"unsupported format {fmt}")


# --- EEGLAB: parsed only in a child process ------------------------------------------


def _read_eeglab(set_path: Path) -> tuple[mne.io.BaseRaw, mne.preprocessing.ICA | None, list[str]]:
    """Read with MNE (continuous, or epochs joined end to end); return the Raw, a stored ICA and the code."""
    q = repr(set_path.name)
    try:
        return (
            mne.io.read_raw_eeglab(set_path, preload=True),
            None,
            [f"raw = mne.io.read_raw_eeglab({q}, preload=True)"],
        )
    except (ValueError, TypeError) as exc:
        if "trials" not in str(exc) and "epoch" not in str(exc).lower():
            raise
    epochs = mne.read_epochs_eeglab(set_path)
    try:
        ica = mne.preprocessing.read_ica_eeglab(set_path)
    except Exception:  # a dataset without ICA weights
        ica = None
    return (
        _epochs_as_raw(epochs),
        ica,
        [
            f"epochs = mne.read_epochs_eeglab({q})",
            "# epochs joined end to end with 'boundary' marks, as EEGLAB shows them",
            "raw = mne.io.RawArray(np.concatenate(list(epochs.get_data()), axis=-1), epochs.info)",
        ],
    )


def convert_eeglab(out_dir: str, look_beside: str, set_path: str, *paths: str) -> dict:
    """Check and read an EEGLAB dataset, and write it as FIF into ``out_dir``.

    The child process's side of loading a ``.set`` (see :mod:`backend.isolation`):
    scipy's MATLAB reader, which both the header check and MNE's reader use, is native
    code that a forged file can crash, so it never runs in the app's own process.
    Writes ``raw.fif`` and, when the file stores ICA weights, ``stored-ica.fif``.
    ``look_beside`` is "1" when the data file may be found beside the ``.set``
    (files of the command line) rather than among ``paths`` alone (an upload).

    Returns
    -------
    dict
        ``reader`` (MNE code that reads the file), ``warnings`` (the readers' runtime
        warnings), ``ica`` (whether an ICA was written) and ``data_file`` (the
        ``.fdt`` read, or None).
    """
    source, out = Path(set_path), Path(out_dir)
    data_file = _check_eeglab(source, [Path(p) for p in paths], look_beside == "1")
    with warnings.catch_warnings(record=True) as caught, mne.utils.use_log_level("error"):
        warnings.simplefilter("always")
        try:
            raw, ica, reader = _read_eeglab(source)
        except MemoryError:  # the child's limit: reported as such by backend.isolation
            raise
        except Exception as exc:  # MNE's reader raises many types for damaged files
            raise EEGError(f"could not read {source.name} as EEGLAB: {_reason(exc)}") from None
    # Double precision: the parent must see exactly the values MNE read.
    raw.save(out / "raw.fif", fmt="double", overwrite=True, verbose="error")
    if ica is not None:
        ica.save(out / "stored-ica.fif", overwrite=True, verbose="error")
    found = sorted({_reason(w.message) for w in caught if issubclass(w.category, RuntimeWarning)})
    return {
        "reader": reader,
        "warnings": found,
        "ica": ica is not None,
        "data_file": str(data_file) if data_file else None,
    }


def _read_eeglab_isolated(set_path: Path, paths: list[Path], look_beside: bool):
    """The Raw, stored ICA, reader code, warnings and data file of an EEGLAB dataset, parsed in a child process."""
    with tempfile.TemporaryDirectory(prefix="eeg-explorer-eeglab-") as tmp:
        result = isolation.run(
            "eeglab",
            [tmp, "1" if look_beside else "0", str(set_path), *map(str, paths)],
            what=f"{set_path.name} is not a readable EEGLAB .set file",
            input_bytes=sum(p.stat().st_size for p in paths),
        )
        written = mne.io.read_raw_fif(Path(tmp) / "raw.fif", preload=True)
        # In memory alone: MNE checks that a Raw's file exists whenever it is copied or cropped.
        raw = mne.io.RawArray(written._data, written.info, first_samp=written.first_samp, verbose="error")
        raw.set_annotations(written.annotations)
        ica = mne.preprocessing.read_ica(Path(tmp) / "stored-ica.fif") if result["ica"] else None
    data_file = [Path(result["data_file"])] if result["data_file"] else []
    return raw, ica, result["reader"], result["warnings"], data_file


def _without_export_padding(raw: mne.io.BaseRaw) -> mne.io.BaseRaw:
    """Drop the edge padding MNE's EDF export appends to fill its last data record.

    MNE marks it with a ``BAD_ACQ_SKIP`` annotation that runs to the end of the file.
    """
    sfreq, end = raw.info["sfreq"], raw.times[-1] if raw.n_times else 0.0
    for start, duration, description in zip(notes.onsets(raw), raw.annotations.duration, raw.annotations.description):
        if description == "BAD_ACQ_SKIP" and start > 0 and abs(start + duration - end - 1 / sfreq) < 1.5 / sfreq:
            return raw.crop(tmax=start - 1 / sfreq)
    return raw


def _non_finite(raw: mne.io.BaseRaw) -> str | None:
    """Where NaN/Inf samples are, in one line, or None. Reads the data in chunks."""
    step = max(1, int(_NAN_SCAN_SECONDS * raw.info["sfreq"]))
    bad_channels: set[str] = set()
    first = None
    for start in range(0, raw.n_times, step):
        block = raw.get_data(start=start, stop=min(raw.n_times, start + step))
        finite = np.isfinite(block)
        if not finite.all():
            rows, cols = np.nonzero(~finite)
            bad_channels.update(raw.ch_names[r] for r in np.unique(rows))
            if first is None:
                first = (start + cols.min()) / raw.info["sfreq"]
    if not bad_channels:
        return None
    names = ", ".join(sorted(bad_channels)[:8]) + (" …" if len(bad_channels) > 8 else "")
    return f"NaN/Inf samples in {len(bad_channels)} channel(s) ({names}), first at {first:.2f} s"


def _sha256(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for p in sorted(paths, key=lambda p: p.name):
        digest.update(p.name.encode())
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def load_recording(paths, max_bytes: int | None = None, *, look_beside: bool = False) -> Recording:
    """Load the files of one recording.

    Parameters
    ----------
    paths : path-like or list of path-like
        The recording's files: its header and any companions (``.vmrk``/``.eeg``
        for BrainVision, ``.fdt`` for EEGLAB, ``.21E``/``.PNT``/``.LOG`` for Nihon Kohden).
    max_bytes : int, optional
        Refuse uploads larger than this; defaults to the app's upload limit.
    look_beside : bool
        The paths are the user's own files (the command line): companion files that a
        header names are also looked for beside it, in its folder, by plain name. For
        an upload (the default) only the uploaded files count.

    Returns
    -------
    Recording
        Read lazily where the format allows; names cleaned to 10-05 labels where
        they clearly match, types inferred from names, standard positions attached.
        The ``load`` step's report holds the warnings a user should see.

    Raises
    ------
    EEGError
        With a one-line message for any file that cannot be read as a recording.
    """
    paths = [Path(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths)]
    if not paths:
        raise EEGError("no file given")
    limit = max_upload_bytes() if max_bytes is None else max_bytes
    _check_sizes(paths, limit)
    source, fmt = _primary_file(paths)
    primary = _with_extension_for(source, fmt)
    companions: list[Path] = []
    if fmt in ("EDF", "BDF"):
        _check_edf(primary, fmt)
    elif fmt == "BrainVision":
        companions = _check_brainvision(primary, paths, look_beside)

    found_warnings = []
    if fmt == "Nihon Kohden":  # MNE reads these beside the .EEG, by its stem
        beside = {
            ext: [c for c in (primary.with_suffix(ext), primary.with_suffix(ext.lower())) if c.is_file()]
            for ext in (".21E", ".PNT", ".LOG")
        }
        companions = [found[0] for found in beside.values() if found]
        missing = [ext for ext, found in beside.items() if not found]
        if missing:
            found_warnings.append(
                f"Nihon Kohden companion file(s) {', '.join(primary.stem + e for e in missing)} missing: channel names, date or events may be absent"
            )

    with warnings.catch_warnings(record=True) as caught, mne.utils.use_log_level("error"):
        warnings.simplefilter("always")
        try:
            if fmt == "EEGLAB":
                raw, ica, reader_code, child_warnings, companions = _read_eeglab_isolated(primary, paths, look_beside)
                found_warnings += child_warnings
            else:
                (raw, reader_code), ica = _read(primary, fmt), None
        except EEGError:
            raise
        except Exception as exc:  # MNE's readers raise many types for damaged files
            raise EEGError(f"could not read {source.name} as {fmt}: {_reason(exc)}") from None
    found_beside = [c for c in companions if c not in paths]
    if found_beside:  # part of the recording as much as the files named on the command line
        paths = paths + found_beside
        _check_sizes(paths, limit)
    raw = _without_export_padding(raw)
    if len(raw.ch_names) == 0:
        raise EEGError(f"{source.name} holds zero channels")
    if raw.n_times == 0:
        raise EEGError(f"{source.name} holds zero samples")
    data_types = set(raw.get_channel_types()) - {"stim", "misc"}
    if not data_types:
        raise EEGError(f"{source.name} holds no signal channels (annotations or triggers only)")
    found_warnings += sorted({_reason(w.message) for w in caught if issubclass(w.category, RuntimeWarning)})[:5]

    try:
        if fmt not in _INTEGER_FORMATS:
            where = _non_finite(raw)
            if where:
                found_warnings.append(where + "; filters and models will fail until those samples are fixed")
        else:
            raw.get_data(start=raw.n_times - 1)  # lazy readers fail here when the data are cut short
    except Exception:  # MNE raises RuntimeError/ValueError/OSError for a data file that does not match its header
        raise EEGError(
            f"{primary.name}: its data do not match what the header describes; the data file is truncated or damaged"
        ) from None

    with mne.utils.use_log_level("error"):
        changes = channels.tidy_channels(raw)
    # Channels without a standard position are not a warning: the summary's montage match names them.

    files = tuple([source.name] + sorted(p.name for p in paths if p != source))
    load = Step(
        "load",
        {"files": list(files), "format": fmt, **changes},
        {"warnings": found_warnings, "reader": reader_code, "positions": _positions_code(raw)},
    )
    return Recording(raw=raw, source_files=files, sha256=_sha256(paths), format=fmt, history=(load,), ica=ica)


def _positions_code(raw: mne.io.BaseRaw) -> list[str]:
    """Code that gives the EEG channels the positions they have now."""
    montage = raw.get_montage()
    if montage is None:
        return []
    pos = montage.get_positions()
    ch_pos = {n: [round(float(v), 7) for v in xyz] for n, xyz in pos["ch_pos"].items() if np.isfinite(xyz).all()}
    fid = {k: [round(float(v), 7) for v in pos[k]] for k in ("nasion", "lpa", "rpa") if pos[k] is not None}
    args = ", ".join(f"{k}={v}" for k, v in fid.items())
    return [
        f"montage = mne.channels.make_dig_montage(ch_pos={ch_pos}, {args}, coord_frame={pos['coord_frame']!r})",
        "raw.set_montage(montage, on_missing='ignore')",
    ]


# --- export ----------------------------------------------------------------------


def export_recording(recording: Recording, out: Path | str) -> list[Path]:
    """Write the recording in the format its extension names (.fif, .edf, .vhdr, .set).

    Returns the files written (BrainVision writes three).
    """
    out = Path(out)
    ext = _suffix(out).lstrip(".")
    if ext not in EXPORT_FORMATS:
        raise EEGError(f"cannot export to {out.name}: use one of {', '.join('.' + e for e in EXPORT_FORMATS)}")
    raw = recording.raw.copy().load_data()
    out.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings(), mne.utils.use_log_level("error"):
        warnings.simplefilter("ignore")
        try:
            if ext == "fif":
                raw.save(out, overwrite=True)
                return [out]
            mne.export.export_raw(
                out, raw, fmt={"edf": "edf", "vhdr": "brainvision", "set": "eeglab"}[ext], overwrite=True
            )
        except (ValueError, TypeError, RuntimeError) as exc:
            raise EEGError(f"export to {EXPORT_FORMATS[ext]} failed: {_reason(exc)}") from None
    if ext == "vhdr":
        return [out, out.with_suffix(".vmrk"), out.with_suffix(".eeg")]
    written = [out]
    if out.with_suffix(".fdt").exists():
        written.append(out.with_suffix(".fdt"))
    return written


def export_bytes(recording: Recording, ext: str) -> tuple[str, bytes, str]:
    """The recording exported for download: ``(file name, bytes, MIME type)``.

    Formats written as several files come as one zip.
    """
    stem = Path(recording.name).stem + ("_raw" if ext == "fif" else "")
    with tempfile.TemporaryDirectory(prefix="eeg-export-") as tmp:
        files = export_recording(recording, Path(tmp) / f"{stem}.{ext}")
        if len(files) == 1:
            return files[0].name, files[0].read_bytes(), "application/octet-stream"
        buffer = _stdio.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for f in files:
                zf.write(f, f.name)
        return f"{stem}_{ext}.zip", buffer.getvalue(), "application/zip"
