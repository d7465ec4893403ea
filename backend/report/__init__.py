"""Reports: the figures a user chose, a header, methods text and references, as HTML or PDF.

``methods`` writes the methods paragraph and BibTeX from a recording's history,
``validation`` reads the figures the benchmarks measured (``benchmarks/results``),
``build`` turns report items into one self-contained HTML file or a PDF, and
``cli`` is ``python -m backend report``.
"""
