"""Machine profiles shipped as package data."""
