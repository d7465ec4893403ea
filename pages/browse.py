import streamlit as st

st.title("Browse")
st.info("Coming next — this page will let you page through the traces as on a clinical review station, with montages, display filters, annotations and spectra.", icon=":material/construction:")
