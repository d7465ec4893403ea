"""Clean: filters, re-referencing, bad channels, ASR, ICLabel auto-clean, and known-truth tests."""
