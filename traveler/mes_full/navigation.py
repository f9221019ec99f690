from traveler.core.registry import declare_menu_section

declare_menu_section("Step control", 25)

# Lot acceptance and rollbacks.
from traveler.core.registry import MenuItem, add_menu_item  # noqa: E402

add_menu_item(MenuItem("mes_full", "Lot inspections", "mes_full:lotinspection-list", "mes_full.view_lotinspection",
                       "Step control", 40, "sampling"))
add_menu_item(MenuItem("mes_full", "Z1.4 switching", "mes_full:z14switchingstate-list", "mes_full.view_lotinspection",
                       "Step control", 41, "sampling"))
add_menu_item(MenuItem("mes_full", "Rollbacks", "mes_full:steprollback-list", "mes_full.view_steprollback",
                       "Step control", 60, ""))
