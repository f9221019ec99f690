"""Layout rules every module's pages follow, checked without a browser: tables in a scroll wrapper,
list cells that keep ids and dates on one line. The browser check at tablet and phone sizes is
traveler/mes_lite/tests/test_browser_layout.py."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.apps import apps

from traveler.core.models import Company
from traveler.core.tests.factories import make_company
from traveler.core.tests.test_ui_shell import signed_in
from traveler.core.ui.display import keeps_together

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr",
        "use", "path", "circle", "rect", "line"}


class _Tables(HTMLParser):
    """Each <table> and whether its parent element carries the class table-scroll."""

    def __init__(self):
        super().__init__()
        self.stack: list[set[str]] = []
        self.tables: list[tuple[int, bool]] = []

    def handle_starttag(self, tag, attrs):
        classes = set((dict(attrs).get("class") or "").split())
        if tag == "table":
            self.tables.append((self.getpos()[0], bool(self.stack) and "table-scroll" in self.stack[-1]))
        if tag not in VOID:
            self.stack.append(classes)

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        if tag not in VOID and self.stack:
            self.stack.pop()


def templates() -> list[Path]:
    return sorted(p for app in apps.get_app_configs() if app.name.startswith("traveler.")
                  for p in (Path(app.path) / "templates").rglob("*.html"))


def test_every_table_of_every_module_is_in_a_scroll_wrapper():
    found, unwrapped = 0, []
    for path in templates():
        parser = _Tables()
        parser.feed(path.read_text())
        for line, wrapped in parser.tables:
            found += 1
            if not wrapped:
                unwrapped.append(f"{path.relative_to(Path(apps.get_app_config('core').path).parents[1])}:{line}")
    assert found > 10  # the check sees the module's templates
    assert not unwrapped, f"tables outside a <div class=\"table-scroll\">: {unwrapped}"


@pytest.mark.parametrize("values,together", [
    (["CMM-00-4711", "SO-1042"], True),  # ids and serial numbers
    (["Coordinate measuring machine", "CMM-01"], False),  # names wrap
    (["—", ""], False),  # nothing shown
    (["X" * 41], False),  # too long to keep on one line
])
def test_text_columns_keep_single_tokens_together(values, together):
    assert keeps_together(Company._meta.get_field("name"), values) is together


def test_dates_and_choices_always_stay_on_one_line():
    assert keeps_together(Company._meta.get_field("created_at"), ["2026-12-03 05:34 UTC"])
    assert keeps_together(Company._meta.get_field("kind"), ["Internal supplier"])


@pytest.mark.django_db
def test_list_cells_carry_their_column_class(tenant, admin):
    make_company(tenant, "Aurora Calibration Laboratory and Metrology Services", kind="supplier")
    r = signed_in(admin, tenant).get("/companies/")
    css = {h["name"]: h["css"] for h in r.context["headers"]}
    assert css["name"] == "cell-name" and css["kind"] == "nowrap"
    html = r.content.decode()
    assert '<th scope="row" class="cell-name">' in html and '<td class="nowrap">' in html
