"""Profiling: HTML timeline, NVTX ranges, dataflow and event graphs from recorded traces."""
