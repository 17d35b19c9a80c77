"""TEST DOUBLE of a GPU (none can run here): fake_cupy.py stands in for CuPy, backend.py
makes the runtime's backend a CupyBackend on it. tests/conftest.py turns it on for a test
run with HPCARRAY_TEST_GPU_DOUBLE=1."""
