from traveler.core.registry import MenuItem, add_menu_item, declare_menu_section

declare_menu_section("Quality", 30)

add_menu_item(MenuItem("spc", "Chart calculator", "spc:chart", "spc.use_calculators", "Quality", 60, "chart"))
add_menu_item(MenuItem("spc", "Sampling plans", "spc:sampling", "spc.use_calculators", "Quality", 70, "sampling"))
add_menu_item(MenuItem("spc", "Characteristics", "spc:characteristics", "spc.view_characteristic", "Quality", 55,
                       "chart"))
add_menu_item(MenuItem("spc", "Capability", "spc:capability", "spc.view_characteristic", "Quality", 57, "chart"))
add_menu_item(MenuItem("spc", "SPC signals", "spc:spcsignal-list", "spc.view_spcsignal", "Quality", 65, "alert"))
