"""Reusable display pieces of the app, shared by the pages (``ui/pages``): measurement cards, photo
display, findings, the report bridge, the access gate. A component imports the library and other
components, never a page."""
