"""The GPU backend: CuPy arrays in device memory and generated CUDA kernels.

codegen.py (CUDA sources from fused plans; pure Python), nvrtc.py (compiling them with no
GPU: the tests), kernels.py (plans run as generated kernels), device.py (which GPU a rank
uses, and whether it can), backend.py (CupyBackend). Nothing here imports CuPy until a
backend is made or a source compiled.
"""
