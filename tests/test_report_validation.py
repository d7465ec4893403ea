"""Every figure a validation line states comes from a results file the benchmarks wrote."""

import json
import re

import pytest

from backend.report import validation


def _strings(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, str):
        yield value


def _numbers(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _numbers(v)
    elif isinstance(value, list):
        for v in value:
            yield from _numbers(v)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield float(value)


def assert_stated_figures_come_from_results(text: str, method: str) -> None:
    """Every number in ``text`` (a validation line, as shown) is a figure of ``method``'s results file.

    Text copied from the file (the benchmark's name, a citation) is taken out first: it comes from there too.
    """
    name = validation.LINES[validation.ALIASES.get(method, method)][0]
    results = json.loads((validation.RESULTS / f"{name}.json").read_text())
    assert results["benchmark"] in text
    for quoted in sorted([results["benchmark"], *_strings(results["figures"])], key=len, reverse=True):
        text = text.replace(quoted, "")
    measured = set(_numbers(results["figures"]))
    stated = [float(x) for x in re.findall(r"(?<![\w.])\d+(?:\.\d+)?", text)]
    assert stated and all(x in measured for x in stated), (stated, measured)


@pytest.mark.parametrize("method", list(validation.LINES) + list(validation.ALIASES))
def test_every_stated_figure_comes_from_the_results(method):
    name, template = validation.LINES[validation.ALIASES.get(method, method)]
    assert not re.search(r"\d", template), "a template may not state a number itself"
    line = validation.line(method)
    assert line
    assert_stated_figures_come_from_results(line, method)


def test_a_made_up_figure_is_caught():
    line = validation.line("sources")
    with pytest.raises(AssertionError):
        assert_stated_figures_come_from_results(line.replace("mm", "mm (or 3.1 mm)", 1), "sources")


def test_items_carry_the_line_of_their_method():
    assert validation.for_item("components", {}) == validation.line("iclabel")
    assert validation.for_item("sources", {"method": "eLORETA"}) == validation.line("sources")
    assert validation.for_item("classify", {}) == validation.line("classify")
    assert validation.for_item("clean", {"steps": ["bandpass", "art"]}) == validation.line("art")
    assert validation.for_item("clean", {"steps": ["bandpass"]}) is None
    assert validation.for_item("browse", {}) is None


def test_report_states_each_items_line_once_beside_it_and_in_the_methods(physionet_recording):
    import io

    import plotly.graph_objects as go

    from backend.report.build import Report, item_from_figure

    fig = go.Figure(go.Scatter(x=[0, 1], y=[1, 0]))
    items = [
        item_from_figure("components", "Cards", fig, method="fastica", n_components=20, seed=97),
        item_from_figure("sources", "Cortex", fig, method="eLORETA"),
        item_from_figure("classify", "CV", fig),
        item_from_figure("components", "Removed", fig, method="fastica", n_components=20, seed=97),
    ]
    report = Report(physionet_recording, items)
    text, _ = report.methods()
    for method in ("iclabel", "sources", "classify"):
        assert text.count(validation.line(method)) == 1, method
    assert "were labelled with ICLabel" in text and "FastICA, 20 components" in text
    page = report.html()
    assert page.count("class='validation'") == 4
    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(io.BytesIO(report.pdf()))
    pdf_text = " ".join(" ".join(p.extract_text().split()) for p in reader.pages)
    for method in ("iclabel", "sources", "classify"):
        assert validation.line(method)[:50] in pdf_text, method


def test_missing_results_state_nothing(tmp_path):
    assert validation.line("art", folder=tmp_path) is None
    validation.write("denoise", {"floor": {}}, benchmark="b.py", protocol="p", folder=tmp_path)
    assert validation.line("art", folder=tmp_path) is None  # a figure it lacks is never made up
