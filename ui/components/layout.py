"""Layout that fits a laptop (1400 px) and a tablet held upright (820 px, sidebar open or closed).

``st.columns`` squeezes its columns until the viewport is phone-narrow (then stacks them): on a tablet
with the sidebar open two columns are ~230 px each, too narrow for a photo, a table or a long label.
:func:`reflow_row` puts containers of a readable width side by side and wraps them onto the next line
when they do not fit; a container is never wider than its parent (Streamlit caps a fixed width at
100%), so nothing scrolls sideways.
"""

from __future__ import annotations

from typing import Any, Literal

import streamlit as st

# a column of form controls or text (CSS px); two of them fit a laptop's main area side by side
FORM_COL_PX = 320
# a date field's column (CSS px)
DATE_COL_PX = 180
# a column holding a table (CSS px): wide enough for the Clients and Compare tables' columns
TABLE_COL_PX = 560
# ... but a tablet held upright with the sidebar open has 486 px of main area (820 px viewport): a
# table's column widths must add up to at most this, or it scrolls sideways there
TABLET_TABLE_PX = 480

Width = int | Literal["stretch", "content"]


def reflow_row(
    n: int, widths: tuple[Width, ...] | None = None,
    vertical_alignment: Literal["top", "center", "bottom"] = "bottom", gap: str = "medium",
) -> list[Any]:
    """``n`` containers side by side (each ``widths[i]`` CSS px, default :data:`FORM_COL_PX`) that
    wrap onto the next line when they do not fit."""
    row = st.container(horizontal=True, gap=gap, vertical_alignment=vertical_alignment)
    return [row.container(width=w) for w in (widths or (FORM_COL_PX,) * n)]
