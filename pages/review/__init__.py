"""The review page and its data."""
