"""The visit held on the New assessment page (ui/components/visit.py): add, retake, remove, reopen.

Each view keeps its own photo and analysis; a retake replaces only its view; removing or reopening
one never touches another; a new photo or view in the sidebar closes a reopened view.
"""

from __future__ import annotations

from typing import Any

from ui.components import visit


def _item(view: str, sha: str) -> visit.VisitView:
    # the photo and analysis are carried, never looked into, by these functions
    photo: Any = object()
    base: Any = object()
    return visit.VisitView(view, sha.encode(), sha, None, photo, base)


def test_views_come_in_visit_order_and_a_retake_replaces_only_its_view() -> None:
    ss: dict[str, Any] = {}
    visit.add_view(ss, _item("right", "s1"))
    visit.add_view(ss, _item("anterior", "f1"))
    assert list(visit.views(ss)) == ["anterior", "right"]
    visit.add_view(ss, _item("right", "s2"))  # retake the side
    held = visit.views(ss)
    assert list(held) == ["anterior", "right"]
    assert held["right"].sha256 == "s2" and held["anterior"].sha256 == "f1"


def test_remove_drops_one_view_and_closes_it_when_open() -> None:
    ss: dict[str, Any] = {}
    for v, sha in (("anterior", "f"), ("posterior", "b"), ("left", "l")):
        visit.add_view(ss, _item(v, sha))
    sidebar = ("f", "anterior")
    visit.open_view(ss, "left", sidebar)
    assert visit.opened(ss, sidebar) is not None
    visit.remove_view(ss, "posterior")
    assert list(visit.views(ss)) == ["anterior", "left"]
    opened = visit.opened(ss, sidebar)
    assert opened is not None and opened.view == "left"
    visit.remove_view(ss, "left")
    assert visit.opened(ss, sidebar) is None and list(visit.views(ss)) == ["anterior"]


def test_a_new_photo_in_the_sidebar_closes_a_reopened_view() -> None:
    ss: dict[str, Any] = {}
    visit.add_view(ss, _item("right", "s"))
    visit.open_view(ss, "right", ("s", "right"))
    assert visit.opened(ss, ("other", "right")) is None
    assert visit.opened(ss, ("s", "right")) is None  # closed for good, not only hidden
    visit.clear(ss)
    assert visit.views(ss) == {}
