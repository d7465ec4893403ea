"""The one error type the backend raises for anything a user can fix."""


class EEGError(Exception):
    """A problem with the user's input, carrying a one-line, user-facing message.

    Pages show ``str(err)`` with ``st.error``; the CLI prints ``error: <message>``
    and exits with status 2. Any other exception escaping the backend is a bug.
    """

    def __init__(self, message: str):
        # Keep the message to one line: it is shown as is in the UI and the CLI.
        super().__init__(" ".join(str(message).split()))


def first_line(exc: BaseException, limit: int = 200) -> str:
    """The first line of an exception's message (its type's name when it has none), for a one-line report."""
    lines = str(exc).strip().splitlines()
    return lines[0][:limit] if lines else type(exc).__name__
