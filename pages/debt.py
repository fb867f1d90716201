"""Debt: outstanding charges, ageing, collection, frequent debtors (coming: a later issue fills this page)."""

from dashboard.components import coming_soon
from dashboard.session import current_view

view = current_view()
coming_soon(view.lang, view.description)
