"""MES Lite's menu: the Production section.

Icons ``mes_lite:<name>`` come from ``mes_lite/icons.svg``, plain names from core's sprite.
"""

from traveler.core.registry import HomePage, MenuItem, add_menu_item, declare_menu_section, set_home_page

declare_menu_section("Production", 20)


def _item(label: str, url_name: str, permission: str, order: int, icon: str) -> None:
    add_menu_item(MenuItem("mes_lite", label, f"mes_lite:{url_name}", permission, "Production", order, icon))


_item("Station", "station", "mes_lite.advance_part", 10, "mes_lite:station")
_item("Orders", "order-list", "mes_lite.view_order", 20, "mes_lite:order")
_item("Work orders", "workorder-list", "mes_lite.view_workorder", 30, "mes_lite:board")
# The part pages show each part's transition log: customers, who hold view_part for their own
# orders' parts, follow them on the order progress page instead.
_item("Parts", "part-list", "mes_lite.view_transition", 40, "mes_lite:part")
_item("Part types", "parttype-list", "mes_lite.view_parttype", 50, "archive")
_item("Processes", "process-list", "mes_lite.view_process", 60, "mes_lite:route")
_item("Equipment", "equipment-list", "mes_lite.view_equipment", 70, "mes_lite:gauge")

# Operators work at the station: it is where they land, the menu stays one click away.
set_home_page(HomePage("mes_lite", "operator", "mes_lite:station", "mes_lite.advance_part"))
