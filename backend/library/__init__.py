"""The Library: every recording a user has opened, with its annotations, history and results.

:mod:`backend.library.api` holds the functions pages and the command line call;
:mod:`~backend.library.db` the schema and migrations, :mod:`~backend.library.store`
the content-addressed files, :mod:`~backend.library.deidentify` what is removed on import.
"""

# The one user of a deployment without sign-in.
LOCAL_USER = "local"
