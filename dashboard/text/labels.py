"""Names of dimensions and of their members (segments, provinces, age bands …) as the user
reads them, shared by every topic that breaks a figure down."""

from dashboard.text.strings import age_band_label, t, value_label

# A dimension's own name, by the key of its label in dashboard/text/strings.py.
DIMENSION_LABEL_KEYS = {
    "segment": "segment",
    "macro_region": "region",
    "province_code": "province",
    "age_band": "age_band",
    "plan": "plan",
    "area_type": "area_type",
    "services": "services",
    "tenure_band": "tenure_band",
}


def dimension_label(dimension: str, lang: str) -> str:
    return t(DIMENSION_LABEL_KEYS[dimension], lang)


def member_label(dimension: str, member, view) -> str:
    """A member as shown: provinces by name within the view's options, codes by their label."""
    lang = view.lang
    if member is None:
        return "—"
    if dimension == "province_code":
        option = view.options.province(member)
        return option.name(lang) if option else str(member)
    if dimension == "age_band":
        return age_band_label(member, lang)
    if dimension == "services":
        return t(f"service_{member}", lang)
    if dimension == "tenure_band":
        return t(f"tenure_{member}", lang)
    prefix = {"segment": "segment", "plan": "plan", "area_type": "area", "macro_region": "region"}[dimension]
    return value_label(prefix, member, lang)
