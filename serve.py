"""EEG Explorer served with its page route: ``streamlit run serve.py`` (the app is ``app.py``).

The route serves the Browse page's pages over HTTP so that turning a page does not rerun the
script (see :mod:`ui.page_server`); ``streamlit run app.py`` still works, turning pages by reruns.
"""

import streamlit as st
from starlette.routing import Route

from ui import page_server

app = st.App("app.py", routes=[Route("/eeg/page/{token}", page_server.endpoint)])
