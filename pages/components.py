import streamlit as st

st.title("Components")
st.info("Coming next — this page will let you fit ICA and inspect each component's topomap, spectrum, time course and ICLabel class, then remove the artifactual ones.", icon=":material/construction:")
