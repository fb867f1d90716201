"""Text from outside (a link's parameters, a name from the identity provider) shown inside
Streamlit markdown (st.warning, st.markdown, captions) must read as plain text.

Streamlit markdown turns `[text](url)` into links, `![](url)` into images fetched by the
browser, `:red[…]` into colours and `$…$` into formulas: a crafted link could make the
dashboard display a convincing fake message or call another host. Backslash-escaping the
characters that start those constructs leaves letters, digits, "=", ",", "-" and "_"
as they are, so "province=79" still reads "province=79".
"""

import re

_SPECIAL = re.compile(r"([\\`*\[\]()!<>:$~.|#{}])")


def plain(text: str) -> str:
    """`text` escaped so markdown shows it literally."""
    return _SPECIAL.sub(r"\\\1", text)
