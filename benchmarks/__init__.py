"""Side-by-side benchmarks of the example programs: NumPy, Dask and hpcarray.

Run ``python -m benchmarks`` (``--quick`` for a smoke run); see ``benchmarks.runner``.
"""
