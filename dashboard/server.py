"""The web server: Streamlit's own app (dashboard/app.py) and the one route the session
cookie needs (dashboard/access/session_cookie.py). Started as

    python -m streamlit run dashboard/server.py

(`make run`, the browser tests and the benchmark do), which serves `app` below with every
option of `streamlit run`. AppTest still runs dashboard/app.py itself: the cookie route is
the only thing this file adds.
"""

import streamlit as st

from dashboard.access.session_cookie import routes

app = st.App("app.py", routes=routes())
