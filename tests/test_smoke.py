from backend.io import load_recording


def test_bundled_eeglab_sample_loads(eeglab_files):
    rec = load_recording(eeglab_files)
    assert len(rec.raw.ch_names) == 32
    assert rec.raw.info["sfreq"] == 128.0
