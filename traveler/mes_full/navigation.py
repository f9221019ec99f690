from traveler.core.registry import declare_menu_section

declare_menu_section("Step control", 25)
