"""The churn page and its data."""
