"""The complaints page and its data."""
