"""Methods text: a sentence for every registered step, stating its parameters; BibTeX for every reference."""

import json

import pytest

from backend import steps
from backend.recording import Step
from backend.report import methods
from tests.step_examples import CASES


def _scalars(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _scalars(v)
        yield from value
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _scalars(v)
    elif value is not None and not isinstance(value, bool):
        yield value


def test_every_registered_step_has_a_sentence():
    assert set(methods.SENTENCES) == {k.name for k in steps.available()}


@pytest.mark.parametrize("case", [c for c in CASES if not callable(CASES[c][1][-1][1])])
def test_sentence_states_every_parameter(case):
    name, params = CASES[case][1][-1]
    text, refs = methods.step_sentence(Step(name, params))
    assert text.endswith(".") and not text.startswith("Step ")  # not the fallback sentence
    for value in _scalars(list(params.values())):
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        if name == "import_annotations":  # the rows are counted, not listed
            assert f"{len(params['rows'])} annotations" in text
            break
        assert shown.lower() in text.lower(), (case, shown, text)
    assert all(k in methods.REFERENCES for k in refs)


def test_paragraph_cites_in_order_and_bibtex_has_each_reference(physionet_recording):
    rec = physionet_recording.apply("bandpass", l_freq=1.0, h_freq=30.0).apply("reref", ref="average")
    text, keys = methods.methods(rec, [("sources", {"method": "eLORETA"}), ("classify", {})])
    assert "band-pass filtered from 1 Hz to 30 Hz" in text and "[1, 2]" in text
    assert "eLORETA" in text and "fsaverage" in text and "cross-validation" in text
    assert "95% interval by the corrected resampled t-test" in text and "nadeau2003" in keys
    assert "ojala2010" not in keys  # no permutation test among the figures
    text, keys = methods.methods(rec, [("classify", {"permutations": 100})])
    assert "a permutation test of 100 label shuffles" in text and keys[-1] == "ojala2010"
    bib = methods.bibtex(keys)
    assert bib.count("@article{") == len(keys) == len(set(keys))
    assert all(f"{{{k}," in bib for k in keys)
    assert len(methods.reference_list(keys)) == len(keys)


def test_every_reference_is_balanced_bibtex():
    for key, entry in methods.REFERENCES.items():
        assert entry.startswith(f"@article{{{key},") and entry.count("{") == entry.count("}"), key
    json.dumps(methods.REFERENCES)  # plain strings
