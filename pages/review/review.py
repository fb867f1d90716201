"""Periodic review: the scorecard against targets, what changed and why, what worked, the meeting pack."""

from dashboard.frame.session import current_view
from dashboard.review import panels
from dashboard.review.data import load_review

view = current_view()
kind = panels.period_choice(view.lang)
panels.targets_panel(view)  # administrators only; before the figures, so new targets show at once
data = load_review(view, kind)
panels.period_header(data)
panels.scorecard_panel(data)
panels.findings_panel(data)
panels.breakdown_panel(data)
panels.what_worked_panel(data)
panels.pack_panel(data, panels.app_base_url())
