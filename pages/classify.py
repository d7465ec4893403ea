import streamlit as st

st.title("Classify")
st.info("Coming next — this page will let you cross-validate Riemannian and deep classifiers on the recording's events and see their outputs over time.", icon=":material/construction:")
