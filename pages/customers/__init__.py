"""The customers page and its data."""
