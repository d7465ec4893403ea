"""Streamlit glue shared by the pages: session state, sidebar, error display."""
