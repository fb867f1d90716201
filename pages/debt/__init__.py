"""The debt page and its data."""
