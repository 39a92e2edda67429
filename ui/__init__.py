"""The Streamlit side of posture (see app.py). No maths here: the pages call the posture package.

``nav`` (page table, selected client, store) -> ``pages/`` (one ``render()`` each, never importing
one another) -> ``components/`` (reusable display pieces); ``state`` and ``saving`` are the
Streamlit-free rules (session state, saving with consent), tested alone."""
