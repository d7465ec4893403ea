"""Local Dask workers yield the CPU to the app server.

A page turn must not wait behind an ICA fit or a cross-validation running on the same cores
(``benchmarks/e2e_load.py --scenario mixed``): the local cluster's worker processes run at a
lower priority. Imported only when a local cluster starts (it imports ``distributed``).
"""

from __future__ import annotations

import os

from distributed.diagnostics.plugin import WorkerPlugin

WORKER_NICENESS = 10


class LowerPriority(WorkerPlugin):
    """The worker process runs at :data:`WORKER_NICENESS`; a worker the nanny restarts after a
    crash gets it too (the scheduler hands its plugins to every new worker)."""

    name = "eeg-explorer-lower-priority"

    def setup(self, worker) -> None:
        current = os.nice(0)
        if current < WORKER_NICENESS:
            os.nice(WORKER_NICENESS - current)
