from traveler.core.registry import declare_menu_section

declare_menu_section("Step control", 25)

# Per-part sampling.
from traveler.core.registry import MenuItem, add_menu_item  # noqa: E402

add_menu_item(MenuItem("mes_full", "Sampling rule sets", "mes_full:samplingruleset-list", "mes_full.view_samplingruleset",
                       "Step control", 30, "sampling"))
