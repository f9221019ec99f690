from traveler.core.registry import declare_menu_section

declare_menu_section("Step control", 25)

# First-piece inspection and overrides
from traveler.core.registry import MenuItem, add_menu_item  # noqa: E402

add_menu_item(MenuItem("mes_full", "First-piece inspections", "mes_full:fpi-board", "mes_full.view_fpirecord",
                       "Step control", 40, "check"))
add_menu_item(MenuItem("mes_full", "Overrides", "mes_full:override-inbox", "mes_full.view_stepoverride",
                       "Step control", 45, "alert"))
