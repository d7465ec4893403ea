import streamlit as st

st.title("Clean")
st.info("Coming next — this page will let you build a pipeline of filters, re-referencing, bad-channel repair, ASR and ICA auto-clean, and compare before and after.", icon=":material/construction:")
