from traveler.core.registry import MenuItem, add_menu_item

add_menu_item(MenuItem("spc", "Control charts", "spc:chart", "spc.use_calculators", "Quality", 60))
add_menu_item(MenuItem("spc", "Sampling plans", "spc:sampling", "spc.use_calculators", "Quality", 70))
