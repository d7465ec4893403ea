"""The classification task's window-and-band choice, shared by the Classify and Study pages."""

WINDOW_MODES = {"auto": "Automatic (chosen by inner cross-validation)", "manual": "Manual"}


def manual_window(column, key: str, help: str) -> bool:
    """Place the "Window and band" choice (Automatic by default) in ``column``; whether it is Manual."""
    mode = column.radio("Window and band", list(WINDOW_MODES), format_func=WINDOW_MODES.get, key=key, help=help)
    return mode == "manual"
