from traveler.core.registry import MenuItem, add_menu_item, declare_menu_section

declare_menu_section("Step control", 25)

add_menu_item(MenuItem("mes_full", "Inspect a part", "mes_full:inspect", "mes_full.inspect_part", "Step control", 10,
                       "check"))
