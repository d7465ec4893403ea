"""The pages' one cache: a result is keyed on the content it was computed from.

A page decorates a function with :func:`cached` and calls it with the objects
themselves. Each argument is keyed by :func:`content_key`: a
:class:`~backend.recording.Recording` by its ``key`` (a hash of the source bytes
and the history), another object that carries a content ``key`` (an ICA
decomposition) by that key, lists, tuples and dicts by their items, anything else
by its value. The caller never passes a key beside the object, so the two cannot
get out of step.

Results live in Streamlit's caches (``st.cache_resource`` by default, shared by all
sessions and never copied; ``st.cache_data`` for small results returned as copies),
so nothing is recomputed on a rerun that did not change its inputs.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import numbers
from collections.abc import Callable
from typing import Any

import streamlit as st

from backend.recording import Recording


def content_key(value: Any) -> Any:
    """What identifies ``value`` in a cache key (hashable by Streamlit).

    Raises ``TypeError`` for an object Streamlit could only hash by identity or not
    at all, rather than let a cache key depend on it silently.
    """
    if isinstance(value, Recording):
        return ("recording", value.key)
    key = getattr(value, "key", None)
    if isinstance(key, str):
        return (type(value).__name__, key)
    if isinstance(value, (list, tuple)):
        return tuple(content_key(v) for v in value)
    if isinstance(value, dict):
        return tuple((k, content_key(v)) for k, v in sorted(value.items()))
    if value is None or isinstance(value, (str, bytes, numbers.Number)):
        return value
    if hasattr(value, "__dataclass_fields__") and getattr(value, "__hash__", None) is not None:
        return value  # a frozen dataclass of plain values (a task spec): Streamlit hashes its fields
    raise TypeError(f"cannot key a cache on a {type(value).__name__}: pass what it was computed from")


def cached(
    *, data: bool = False, max_entries: int | None = None, show_spinner: bool | str = False
) -> Callable[[Callable], Callable]:
    """Cache a page function's result on the content of its arguments (see :func:`content_key`).

    Parameters
    ----------
    data : bool
        Use ``st.cache_data`` (small, picklable results; each caller gets a copy)
        instead of ``st.cache_resource`` (objects shared as they are: never change them).
    max_entries : int | None
        How many results to keep.
    show_spinner : bool | str
        As Streamlit's: a text shows while a result is computed.
    """

    def decorate(func: Callable) -> Callable:
        def run(key: tuple, _args: tuple, _kwargs: dict):  # Streamlit hashes `key` only
            return func(*_args, **_kwargs)

        # Streamlit names a cache by the function's module, qualified name and source; ``run``'s
        # source is the same for every page function, so its name says which one, and where.
        run.__module__, run.__name__ = func.__module__, func.__name__
        run.__qualname__ = f"{func.__qualname__}@{func.__code__.co_filename}"
        version = hashlib.blake2b(inspect.getsource(func).encode(), digest_size=8).hexdigest()  # edits drop old results
        store = (st.cache_data if data else st.cache_resource)(run, max_entries=max_entries, show_spinner=show_spinner)

        @functools.wraps(func)
        def call(*args, **kwargs):
            return store((version, content_key((args, kwargs))), args, kwargs)

        call.clear = store.clear
        return call

    return decorate
