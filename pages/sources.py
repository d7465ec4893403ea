import streamlit as st

st.title("Sources")
st.info("Coming next — this page will let you localise activity on a template brain (MNE, dSPM, sLORETA, eLORETA) on an interactive 3-D cortex.", icon=":material/construction:")
