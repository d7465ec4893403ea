"""EEG Explorer: the pages and the shell around them. Run with ``streamlit run serve.py`` (this script,
plus the route that serves the Browse page's pages, :mod:`ui.page_server`); ``streamlit run app.py``
also works, turning Browse pages by reruns."""

from pathlib import Path

import streamlit as st

from ui import background, library, session
from ui.errors import run_guarded

# The tab icon is a file served by the app: a ":material/...:" or emoji icon makes every page ask an
# outside server (fonts.gstatic.com) for it, and the app must run offline.
ICON = Path(__file__).parent / "assets" / "icon.png"
st.set_page_config(page_title="EEG Explorer", page_icon=str(ICON), layout="wide")

PAGES = [
    st.Page("pages/load.py", title="Library", icon=":material/local_library:", default=True),
    st.Page("pages/browse.py", title="Browse", icon=":material/show_chart:"),
    st.Page("pages/clean.py", title="Clean", icon=":material/cleaning_services:"),
    st.Page("pages/components.py", title="Components", icon=":material/extension:"),
    st.Page("pages/sources.py", title="Sources", icon=":material/psychology:"),
    st.Page("pages/classify.py", title="Classify", icon=":material/target:"),
    st.Page("pages/study.py", title="Study", icon=":material/groups:"),
    st.Page("pages/report.py", title="Report", icon=":material/description:"),
]

page = st.navigation(PAGES)
st.session_state["_shell"] = True  # pages check it: see ui.session.ensure_shell
session.housekeeping()
library.require_user()  # with sign-in configured: the sign-in screen until signed in
# Before the page: a page that changes the recording reruns, so the sidebar is never behind
# (drawing it after the page would lose it whenever a page calls st.stop()).
session.sidebar()
background.sidebar()  # the user's jobs on the Dask workers
run_guarded(page)
