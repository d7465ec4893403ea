"""Every figure a validation line states comes from a results file the benchmarks wrote."""

import json
import re

import pytest

from backend.report import validation


def _numbers(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _numbers(v)
    elif isinstance(value, list):
        for v in value:
            yield from _numbers(v)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield float(value)


@pytest.mark.parametrize("method", list(validation.LINES))
def test_every_stated_figure_comes_from_the_results(method):
    name, template = validation.LINES[method]
    assert not re.search(r"\d", template), "a template may not state a number itself"
    results = json.loads((validation.RESULTS / f"{name}.json").read_text())
    line = validation.line(method)
    assert line and results["benchmark"] in line
    measured = set(_numbers(results["figures"]))
    stated = [float(x) for x in re.findall(r"(?<![\w.])\d+(?:\.\d+)?", line.replace(results["benchmark"], ""))]
    assert stated and all(x in measured for x in stated), (stated, measured)


def test_missing_results_state_nothing(tmp_path):
    assert validation.line("art", folder=tmp_path) is None
    validation.write("denoise", {"floor": {}}, benchmark="b.py", protocol="p", folder=tmp_path)
    assert validation.line("art", folder=tmp_path) is None  # a figure it lacks is never made up
