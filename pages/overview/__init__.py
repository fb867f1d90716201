"""The overview page and its data."""
