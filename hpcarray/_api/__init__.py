"""NumPy's API, one module per section of NumPy's documentation."""
