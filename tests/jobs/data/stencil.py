"""Stand-in for the stencil example in golden dry runs (never executed)."""
