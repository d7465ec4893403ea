"""The pages' cache: results keyed on the content of what they were computed from."""

from __future__ import annotations

import pytest

from ui.cache import cached, content_key


def test_a_recording_is_keyed_by_its_content_and_history(eeglab_recording):
    assert content_key(eeglab_recording) == ("recording", eeglab_recording.key)
    filtered = eeglab_recording.apply("bandpass", l_freq=1.0, h_freq=40.0)
    assert content_key([eeglab_recording, filtered]) != content_key([eeglab_recording, eeglab_recording])
    assert content_key({"b": 2, "a": (1.5, None)}) == (("a", (1.5, None)), ("b", 2))


def test_objects_without_a_content_key_are_refused():
    class Keyed:
        key = "abc"

    assert content_key(Keyed()) == ("Keyed", "abc")
    with pytest.raises(TypeError, match="cannot key a cache on a object"):
        content_key(object())


def test_results_are_computed_once_per_content(eeglab_recording):
    calls = []

    @cached(max_entries=4)
    def channels(rec, limit: int):
        calls.append(rec.key)
        return rec.raw.ch_names[:limit]

    channels.clear()
    first = channels(eeglab_recording, 3)
    assert channels(eeglab_recording, 3) is first and len(calls) == 1
    channels(eeglab_recording, 4)
    channels(eeglab_recording.apply("set_bads", bads=["Cz"]), 3)  # a new step is new content
    assert len(calls) == 3
