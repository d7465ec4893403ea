"""Methods text from a recording's history: one sentence a step, every parameter, and its references.

:func:`methods_text` gives the paragraph a researcher can paste into a paper;
:func:`bibtex` the references it cites. A step registered in ``backend.steps``
without a sentence here fails ``tests/test_report_methods.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from backend import steps
from backend.recording import Recording, Step

REFERENCES: dict[str, str] = {
    "gramfort2013": """@article{gramfort2013,
  author = {Gramfort, Alexandre and Luessi, Martin and Larson, Eric and Engemann, Denis A. and Strohmeier, Daniel
    and Brodbeck, Christian and Goj, Roman and Jas, Mainak and Brooks, Teon and Parkkonen, Lauri and H{\\"a}m{\\"a}l{\\"a}inen, Matti},
  title = {{MEG} and {EEG} data analysis with {MNE-Python}},
  journal = {Frontiers in Neuroscience}, volume = {7}, pages = {267}, year = {2013},
  doi = {10.3389/fnins.2013.00267}
}""",
    "widmann2015": """@article{widmann2015,
  author = {Widmann, Andreas and Schr{\\"o}ger, Erich and Maess, Burkhard},
  title = {Digital filter design for electrophysiological data -- a practical approach},
  journal = {Journal of Neuroscience Methods}, volume = {250}, pages = {34--46}, year = {2015},
  doi = {10.1016/j.jneumeth.2014.08.002}
}""",
    "perrin1989": """@article{perrin1989,
  author = {Perrin, F. and Pernier, J. and Bertrand, O. and Echallier, J. F.},
  title = {Spherical splines for scalp potential and current density mapping},
  journal = {Electroencephalography and Clinical Neurophysiology}, volume = {72}, number = {2}, pages = {184--187},
  year = {1989}, doi = {10.1016/0013-4694(89)90180-6}
}""",
    "bigdely2015": """@article{bigdely2015,
  author = {Bigdely-Shamlo, Nima and Mullen, Tim and Kothe, Christian and Su, Kyung-Min and Robbins, Kay A.},
  title = {The {PREP} pipeline: standardized preprocessing for large-scale {EEG} analysis},
  journal = {Frontiers in Neuroinformatics}, volume = {9}, pages = {16}, year = {2015}, doi = {10.3389/fninf.2015.00016}
}""",
    "mullen2015": """@article{mullen2015,
  author = {Mullen, Tim R. and Kothe, Christian A. E. and Chi, Yu Mike and Ojeda, Alejandro and Kerth, Trevor
    and Makeig, Scott and Jung, Tzyy-Ping and Cauwenberghs, Gert},
  title = {Real-time neuroimaging and cognitive monitoring using wearable dry {EEG}},
  journal = {IEEE Transactions on Biomedical Engineering}, volume = {62}, number = {11}, pages = {2553--2567},
  year = {2015}, doi = {10.1109/TBME.2015.2481482}
}""",
    "ablin2018": """@article{ablin2018,
  author = {Ablin, Pierre and Cardoso, Jean-Fran{\\c{c}}ois and Gramfort, Alexandre},
  title = {Faster independent component analysis by preconditioning with {Hessian} approximations},
  journal = {IEEE Transactions on Signal Processing}, volume = {66}, number = {15}, pages = {4040--4049},
  year = {2018}, doi = {10.1109/TSP.2018.2844203}
}""",
    "lee1999": """@article{lee1999,
  author = {Lee, Te-Won and Girolami, Mark and Sejnowski, Terrence J.},
  title = {Independent component analysis using an extended infomax algorithm for mixed subgaussian and
    supergaussian sources},
  journal = {Neural Computation}, volume = {11}, number = {2}, pages = {417--441}, year = {1999},
  doi = {10.1162/089976699300016719}
}""",
    "hyvarinen1999": """@article{hyvarinen1999,
  author = {Hyv{\\"a}rinen, Aapo},
  title = {Fast and robust fixed-point algorithms for independent component analysis},
  journal = {IEEE Transactions on Neural Networks}, volume = {10}, number = {3}, pages = {626--634}, year = {1999},
  doi = {10.1109/72.761722}
}""",
    "piontonachini2019": """@article{piontonachini2019,
  author = {Pion-Tonachini, Luca and Kreutz-Delgado, Ken and Makeig, Scott},
  title = {{ICLabel}: an automated electroencephalographic independent component classifier, dataset, and website},
  journal = {NeuroImage}, volume = {198}, pages = {181--197}, year = {2019}, doi = {10.1016/j.neuroimage.2019.05.026}
}""",
    "li2022": """@article{li2022,
  author = {Li, Adam and Feitelberg, Jacob and Saini, Anand Prakash and H{\\"o}chenberger, Richard and Scheltienne, Mathieu},
  title = {{MNE-ICALabel}: automatically annotating {ICA} components with {ICLabel} in {Python}},
  journal = {Journal of Open Source Software}, volume = {7}, number = {76}, pages = {4484}, year = {2022},
  doi = {10.21105/joss.04484}
}""",
    "chuang2024": """@article{chuang2024,
  author = {Chuang, Chun-Hsiang and Chang, Kong-Yi and Huang, Chih-Sheng and Bessas, Anne-Mei},
  title = {{ART}: Artifact Removal Transformer for reconstructing noise-free multichannel electroencephalographic signals},
  journal = {arXiv preprint arXiv:2409.07326}, year = {2024}
}""",
    "pascualmarqui2002": """@article{pascualmarqui2002,
  author = {Pascual-Marqui, Roberto D.},
  title = {Standardized low-resolution brain electromagnetic tomography ({sLORETA}): technical details},
  journal = {Methods and Findings in Experimental and Clinical Pharmacology}, volume = {24}, number = {Suppl D},
  pages = {5--12}, year = {2002}
}""",
    "pascualmarqui2011": """@article{pascualmarqui2011,
  author = {Pascual-Marqui, Roberto D. and Lehmann, Dietrich and Koukkou, Martha and Kochi, Kieko and Anderer, Peter
    and Saletu, Bernd and others},
  title = {Assessing interactions in the brain with exact low-resolution electromagnetic tomography},
  journal = {Philosophical Transactions of the Royal Society A}, volume = {369}, number = {1952}, pages = {3768--3784},
  year = {2011}, doi = {10.1098/rsta.2011.0081}
}""",
    "fischl2012": """@article{fischl2012,
  author = {Fischl, Bruce},
  title = {{FreeSurfer}},
  journal = {NeuroImage}, volume = {62}, number = {2}, pages = {774--781}, year = {2012},
  doi = {10.1016/j.neuroimage.2012.01.021}
}""",
    "barachant2012": """@article{barachant2012,
  author = {Barachant, Alexandre and Bonnet, St{\\'e}phane and Congedo, Marco and Jutten, Christian},
  title = {Multiclass brain-computer interface classification by {Riemannian} geometry},
  journal = {IEEE Transactions on Biomedical Engineering}, volume = {59}, number = {4}, pages = {920--928}, year = {2012},
  doi = {10.1109/TBME.2011.2172210}
}""",
    "nadeau2003": """@article{nadeau2003,
  author = {Nadeau, Claude and Bengio, Yoshua},
  title = {Inference for the generalization error},
  journal = {Machine Learning}, volume = {52}, number = {3}, pages = {239--281}, year = {2003},
  doi = {10.1023/A:1024068626366}
}""",
    "ojala2010": """@article{ojala2010,
  author = {Ojala, Markus and Garriga, Gemma C.},
  title = {Permutation tests for studying classifier performance},
  journal = {Journal of Machine Learning Research}, volume = {11}, pages = {1833--1863}, year = {2010}
}""",
    "pedregosa2011": """@article{pedregosa2011,
  author = {Pedregosa, Fabian and others},
  title = {Scikit-learn: machine learning in {Python}},
  journal = {Journal of Machine Learning Research}, volume = {12}, pages = {2825--2830}, year = {2011}
}""",
}


def _hz(value: Any) -> str:
    return "off" if value is None else f"{float(value):g} Hz"


def _names(values: Iterable[Any]) -> str:
    values = [str(v) for v in values]
    return ", ".join(values) if values else "none"


def _mapping(mapping: dict[str, Any]) -> str:
    return ", ".join(f"{k} → {v}" for k, v in mapping.items()) or "none"


def _ica(params: dict[str, Any]) -> tuple[str, list[str]]:
    method = params.get("method", "picard")
    n = params.get("n_components")
    refs = {"picard": ["ablin2018", "lee1999"], "infomax": ["lee1999"], "fastica": ["hyvarinen1999"]}
    name = {"picard": "extended Infomax (Picard solver)", "infomax": "extended Infomax", "fastica": "FastICA"}
    what = (
        f"independent component analysis ({name.get(method, method)}, {n if n is not None else 'rank-limited'} "
        f"components, random seed {params.get('seed', 97)}) on an average-referenced 1–100 Hz band-passed copy"
    )
    return what, ["gramfort2013", *refs.get(method, [])]


def _load(step: Step, rec: Recording | None) -> tuple[str, list[str]]:
    import mne

    detail = ""
    if rec is not None:
        s = rec.summary()
        detail = f" ({s['n_channels']} channels, {s['sfreq']:g} Hz, {s['duration_s']:g} s)"
    files = _names(step.params.get("files", []))
    return (
        f"The recording ({files}, {step.params.get('format', 'unknown format')}){detail} was read with "
        f"MNE-Python {mne.__version__}.",
        ["gramfort2013"],
    )


def _ica_remove(p: dict[str, Any], r: dict[str, Any]) -> tuple[str, list[str]]:
    removed = _names(p.get("exclude", ()))
    if p.get("stored"):
        return (
            f"Independent components {removed} of the ICA decomposition stored in {p.get('source_file') or 'the file'} "
            "were removed from the signals.",
            ["gramfort2013"],
        )
    what, refs = _ica(p)
    return f"Components {removed} of an {what} were removed from the signals.", refs


def _ica_iclabel(p: dict[str, Any], r: dict[str, Any]) -> tuple[str, list[str]]:
    what, refs = _ica(p)
    removed = r.get("components_removed")
    tail = f" (components removed: {_names(removed)})" if removed is not None else ""
    return (
        f"Artifactual components were removed after {what}: components whose ICLabel probability for "
        f"{_names(p.get('classes', ()))} was at least {p.get('threshold', 0.8):g} were removed{tail}.",
        [*refs, "piontonachini2019", "li2022"],
    )


_ASR_WINDOWS = {
    "lookahead": "{w:g}-s windows centred on each update (a look-ahead of half a window)",
    "blocks": "consecutive {w:g}-s blocks",
    "single": "a single reconstruction for the whole recording",
}


def _asr(p: dict[str, Any], r: dict[str, Any]) -> tuple[str, list[str]]:
    start, stop = p.get("calib_start_s"), p.get("calib_stop_s")
    calib = (
        f"calibration data from {start if start is not None else 0:g} to {stop:g} s"
        if stop is not None
        else "automatically selected clean calibration data"
    )
    done = (
        f"; {r['seconds_reconstructed']:g} s ({100 * r.get('fraction_reconstructed', 0):.1f}% of the recording) "
        "were reconstructed"
        if "seconds_reconstructed" in r
        else ""
    )
    return (
        f"High-variance bursts were repaired by Artifact Subspace Reconstruction (cutoff {p.get('cutoff', 20.0):g} "
        f"standard deviations, {_ASR_WINDOWS[p.get('mode', 'lookahead')].format(w=p.get('win_len', 0.5))}, "
        f"{p.get('method', 'euclid')} covariance, {calib}; meegkit implementation){done}.",
        ["mullen2015"],
    )


def _bad_channels(p: dict[str, Any], r: dict[str, Any]) -> tuple[str, list[str]]:
    found = r.get("bad_channels")
    repaired = "and repaired by spherical-spline interpolation" if p.get("interpolate", True) else "and marked bad"
    tail = f" (found: {_names(found)})" if found is not None else ""
    return (
        f"Bad channels were detected as in the PREP pipeline (pyprep; criteria: {_names(p.get('methods', ()))}; "
        f"random seed {p.get('seed', 97)}) {repaired}{tail}.",
        ["bigdely2015", "perrin1989"],
    )


def _art(p: dict[str, Any], r: dict[str, Any]) -> tuple[str, list[str]]:
    return (
        "Artifacts were removed with EEG Explorer's transformer denoiser in the style of ART, applied in 4-s "
        f"windows at 128 Hz overlapping by {p.get('overlap_s', steps.get('art').params['overlap_s']):g} s and joined "
        "by a raised-cosine cross-fade; what it removed from each short-time Fourier bin was weighted by the "
        "removal's share of that bin over all channels, and no bin of the output was left louder than the input's.",
        ["chuang2024"],
    )


def _reref(p: dict[str, Any], r: dict[str, Any]) -> tuple[str, list[str]]:
    ref = p.get("ref", "average")
    text = (
        {"average": "the common average", "mastoids": "linked mastoids", "ears": "linked ears"}.get(ref)
        if isinstance(ref, str)
        else None
    )
    return f"The EEG was re-referenced to {text or _names([ref] if isinstance(ref, str) else ref)}.", ["gramfort2013"]


SENTENCES: dict[str, Callable[[dict[str, Any], dict[str, Any]], tuple[str, list[str]]]] = {
    "rename_channels": lambda p, r: (f"Channels were renamed ({_mapping(p['mapping'])}).", []),
    "set_channel_types": lambda p, r: (f"Channel types were set ({_mapping(p['mapping'])}).", []),
    "set_bads": lambda p, r: (f"Channels {_names(p['bads'])} were marked bad and left out of further analysis.", []),
    "ica_remove": _ica_remove,
    "ica_iclabel": _ica_iclabel,
    "add_annotation": lambda p, r: (
        f"An annotation '{p['description']}' was added at {float(p['onset']):g} s lasting {float(p['duration']):g} s.",
        [],
    ),
    "edit_annotation": lambda p, r: (
        f"Annotation {p['index']} was changed to '{p['description']}' at {float(p['onset']):g} s "
        f"lasting {float(p['duration']):g} s.",
        [],
    ),
    "delete_annotation": lambda p, r: (f"Annotation {p['index']} was deleted.", []),
    "import_annotations": lambda p, r: (f"{len(p['rows'])} annotations were imported from a CSV file.", []),
    "bandpass": lambda p, r: (
        f"The data were band-pass filtered from {_hz(p.get('l_freq', 1.0))} to {_hz(p.get('h_freq', 40.0))} "
        "(zero-phase FIR, Hamming window, MNE-Python's default transition bands).",
        ["gramfort2013", "widmann2015"],
    ),
    "notch": lambda p, r: (
        f"Line noise was removed by notch filters at {_hz(p.get('freq', 50.0))} and its harmonics below Nyquist"
        + (f" ({', '.join(f'{f:g}' for f in r['notch_hz'])} Hz)" if r.get("notch_hz") else "")
        + " (zero-phase FIR).",
        ["gramfort2013", "widmann2015"],
    ),
    "resample": lambda p, r: (
        f"The data were resampled to {_hz(p.get('sfreq', 128.0))} with anti-alias filtering.",
        ["gramfort2013"],
    ),
    "reref": _reref,
    "bad_channels": _bad_channels,
    "interpolate_bads": lambda p, r: (
        "Channels marked bad"
        + (f" ({_names(r['interpolated'])})" if r.get("interpolated") else "")
        + " were replaced by spherical-spline interpolation from their neighbours.",
        ["perrin1989", "gramfort2013"],
    ),
    "asr": _asr,
    "art": _art,
}


def _components(s: dict[str, Any]) -> tuple[str, list[str]]:
    labelled = "were labelled with ICLabel (mne-icalabel; brain, muscle, eye, heart, line noise, channel noise, other)"
    if s.get("method") == "stored":
        return f"The independent components stored in the file {labelled}.", ["piontonachini2019", "li2022"]
    what, refs = _ica(s)
    return f"The components of an {what} {labelled}.", [*refs, "piontonachini2019", "li2022"]


# Analyses shown in a report that are not steps of the history (figures added from their pages).
ANALYSES: dict[str, Callable[[dict[str, Any]], tuple[str, list[str]]]] = {
    "components": _components,
    "sources": lambda s: (
        f"Sources were estimated with {s.get('method', 'eLORETA')} (MNE-Python) on the fsaverage template head "
        f"({s.get('model', 'a three-layer BEM')}; regularisation λ² = 1/SNR²), not the subject's MRI.",
        ["gramfort2013", "fischl2012", "pascualmarqui2011", "pascualmarqui2002"],
    ),
    "classify": lambda s: (
        f"Trials were classified with pyriemann/scikit-learn pipelines ({s.get('pipelines', 'Riemannian tangent space')}) "
        f"evaluated by {s.get('cv', 'stratified k-fold cross-validation')}; a mean ROC-AUC over folds is given with "
        "its 95% interval by the corrected resampled t-test, which allows for the folds' overlapping training sets"
        + (
            f", and its chance level and p-value by a permutation test of {s['permutations']} label shuffles, "
            "the cross-validation repeated on each."
            if s.get("permutations")
            else "."
        ),
        ["barachant2012", "pedregosa2011", "nadeau2003"] + (["ojala2010"] if s.get("permutations") else []),
    ),
}


def step_sentence(step: Step, recording: Recording | None = None) -> tuple[str, list[str]]:
    """One methods sentence for ``step`` (every parameter stated) and its reference keys."""
    if step.name == "load":
        return _load(step, recording)
    writer = SENTENCES.get(step.name)
    if writer is None:
        return f"Step {step.label()} was applied.", []
    from backend import steps

    defaults = {k: v for k, v in steps.get(step.name).params.items() if v is not steps.REQUIRED}
    return writer({**defaults, **step.params}, dict(step.report))


def methods(recording: Recording, analyses: Iterable[tuple[str, dict[str, Any]]] = ()) -> tuple[str, list[str]]:
    """The methods paragraph of ``recording`` and the keys of the references it cites, in order.

    ``analyses`` are ``(kind, settings)`` pairs of figures added to the report that
    are not history steps (``'components'``, ``'sources'``, ``'classify'``).
    """
    return _paragraph(recording.history, recording, analyses)


def recipe_methods(
    steps: Iterable[dict[str, Any]], analyses: Iterable[tuple[str, dict[str, Any]]] = ()
) -> tuple[str, list[str]]:
    """The methods paragraph of a recipe's steps (``[{'name': ..., 'params': {...}}]``), as a study applied them."""
    history = [Step(s["name"], dict(s.get("params") or {})) for s in steps]
    return _paragraph(history, None, analyses)


def study_methods(
    recipe: Iterable[dict[str, Any]],
    n_recordings: int,
    n_subjects: int,
    outlier_z: float,
    classification: dict[str, Any] | None = None,
) -> tuple[str, list[str]]:
    """The methods paragraph of a study: its recipe's steps, the quality flags and the group classification."""
    analyses = []
    if classification:
        from backend.classify.pipelines import PIPELINES

        name = classification.get("pipeline", "")
        analyses.append(
            (
                "classify",
                {
                    "pipelines": PIPELINES[name].label if name in PIPELINES else name,
                    "cv": f"within-subject stratified {classification.get('folds', 5)}-fold cross-validation; "
                    "the group mean ROC-AUC is given with its 95% confidence interval (Student's t over subjects)",
                },
            )
        )
    text, keys = recipe_methods(recipe, analyses)
    intro = (
        f"Each of {n_recordings} recordings of {n_subjects} subjects was processed with the same recipe "
        "(EEG Explorer study run, one task per recording on a Dask cluster)."
    )
    quality = (
        f"A recording was flagged when a quality metric lay more than {outlier_z:g} robust z-scores (median and "
        "scaled median absolute deviation of the cohort) from the cohort's median in the direction of worse data."
    )
    return " ".join(part for part in (intro, text, quality) if part), keys


def _paragraph(
    history: Iterable[Step], recording: Recording | None, analyses: Iterable[tuple[str, dict[str, Any]]]
) -> tuple[str, list[str]]:
    from backend.report.validation import line

    sentences: list[str] = []
    keys: list[str] = []
    stated: set[str] = set()  # a validation line is said once

    def add(text: str, refs: list[str], validated: str | None = None) -> None:
        keys.extend(k for k in refs if k not in keys)
        cite = f" [{', '.join(str(keys.index(k) + 1) for k in dict.fromkeys(refs))}]" if refs else ""
        tail = f" {validated}" if validated and validated not in stated else ""
        stated.add(validated or "")
        sentences.append(text[:-1] + cite + "." + tail)

    for step in history:
        add(*step_sentence(step, recording), line(step.name))
    seen = set()
    for kind, settings in analyses:
        if kind in ANALYSES and kind not in seen:
            seen.add(kind)
            add(*ANALYSES[kind](settings), line(kind))
    return " ".join(sentences), keys


def bibtex(keys: Iterable[str]) -> str:
    """The BibTeX entries of ``keys``, in order."""
    return "\n\n".join(REFERENCES[k] for k in keys) + "\n"


def reference_list(keys: Iterable[str]) -> list[str]:
    """Short plain-text citations ("[1] Gramfort et al. 2013, ...") of ``keys``, numbered in order."""
    out = []
    for i, key in enumerate(keys, 1):
        entry = REFERENCES[key]
        fields = dict(_field(entry, f) for f in ("author", "title", "journal", "year"))
        first = fields["author"].split(" and ")[0].split(",")[0]
        more = " et al." if " and " in fields["author"] else ""
        out.append(f"[{i}] {first}{more} ({fields['year']}). {fields['title']}. {fields['journal']}.")
    return out


def _field(entry: str, name: str) -> tuple[str, str]:
    import re

    m = re.search(rf"\b{name} = \{{((?:[^{{}}]|\{{[^{{}}]*\}})*)\}}", entry, re.S)
    text = (m.group(1) if m else "").replace("{", "").replace("}", "").replace("\\", "")
    return name, " ".join(text.split())
