"""Report: the figures added from other pages, a header, the reviewer's impression, methods; HTML or PDF."""

from pathlib import Path

import streamlit as st

from backend.report.build import Report
from ui import report, session

session.ensure_shell()
st.title("Report")
st.caption(
    'Figures you added with "Add to report" on other pages, in order, with the recording\'s header, your impression, '
    "and methods text written from the processing history. Download one HTML file (works offline) or a PDF."
)

rec = session.current()
items = report.items()

st.subheader(f"Figures ({len(items)})")
if not items:
    st.info(
        'Nothing added yet: use "Add to report" under a figure on Browse, Clean, Components, Sources or Classify.',
        icon=":material/note_add:",
    )
for n, item in enumerate(list(items)):
    with st.container(border=True):
        top = st.columns([6, 1, 1, 1])
        top[0].markdown(f"**{n + 1}. {item['title']}** · {item['kind']}")
        top[0].text(item["settings"] or "")
        if top[1].button("Up", key=f"report_up_{n}", disabled=n == 0, icon=":material/arrow_upward:"):
            items[n - 1], items[n] = items[n], items[n - 1]
            st.rerun()
        if top[2].button(
            "Down", key=f"report_down_{n}", disabled=n == len(items) - 1, icon=":material/arrow_downward:"
        ):
            items[n + 1], items[n] = items[n], items[n + 1]
            st.rerun()
        if top[3].button("Remove", key=f"report_remove_{n}", icon=":material/delete:"):
            items.pop(n)
            st.rerun()
        item["caption"] = st.text_input("Caption (optional)", item["caption"], key=f"report_caption_{n}_{id(item)}")

st.subheader("Reviewer")
report.load_impression()
reviewer = st.text_input("Name", key=report.REVIEWER)
impression = st.text_area("Impression", key=report.IMPRESSION, height=120)
report.save_impression(reviewer, impression)
st.caption("The impression and the reviewer's name are saved to your library as you write them.")

doc = Report(rec, report.as_items(), reviewer=reviewer, impression=impression)
text, keys = doc.methods()
st.subheader("Methods")
st.caption("Written from the processing history and the figures added; paste it into a paper (copy icon at top right).")
st.code(text, language=None, wrap_lines=True)

stem = Path(rec.name).stem
c = st.columns(4)
c[0].download_button("HTML report", doc.html, f"{stem}_report.html", "text/html", icon=":material/download:")
paper = c[1].radio("Paper", ["A4", "Letter"], horizontal=True, key="report_paper", label_visibility="collapsed")
with session.user_errors():
    c[2].download_button(
        "PDF report", lambda: doc.pdf(paper), f"{stem}_report.pdf", "application/pdf", icon=":material/picture_as_pdf:"
    )
c[3].download_button("BibTeX", doc.bibtex(), "references.bib", "application/x-bibtex", icon=":material/menu_book:")
