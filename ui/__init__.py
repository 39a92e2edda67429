"""Streamlit pages of the posture app (see app.py). No maths here: the pages call the posture package."""
