"""Words for the codes the warehouse stores (category 'billing', channel 'hotline' …),
looked up in dashboard/text/strings.py, for charts and for customer-level lists."""

from dashboard.text.strings import value_label
from queries.tables import COMPLAINT_CATEGORIES, COMPLAINT_CHANNELS, PLANS, SEGMENTS


def labels_of(prefix: str, codes, lang: str) -> dict[str, str]:
    return {code: value_label(prefix, code, lang) for code in codes}


def list_labels(lang: str) -> dict[str, dict[str, str]]:
    """Words for the codes in customer-level lists (queries/value_labels.py)."""
    return {
        "category": labels_of("category", COMPLAINT_CATEGORIES, lang),
        "channel": labels_of("channel", COMPLAINT_CHANNELS, lang),
        "segment": labels_of("segment", SEGMENTS, lang),
        "plan": labels_of("plan", PLANS, lang),
        "churn_type": labels_of("churn_type", ("voluntary", "involuntary"), lang),
    }
