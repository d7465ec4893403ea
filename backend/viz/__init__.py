"""Plotly figure building blocks shared by the stages (pages only place figures)."""
