"""Distributed algorithms over tiles: reproducible blocked reductions, sample sort, runs
of owned elements, index exchange for advanced indexing, reshape tilings that line up."""
