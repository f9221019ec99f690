from traveler.core.registry import declare_menu_section

declare_menu_section("Step control", 25)

# Per-part sampling.
from traveler.core.registry import MenuItem, add_menu_item  # noqa: E402

add_menu_item(MenuItem("mes_full", "Sampling rule sets", "mes_full:samplingruleset-list", "mes_full.view_samplingruleset",
                       "Step control", 30, "sampling"))

# A part's sampling decisions, on its page (kept here with the module's other additions to pages).
from traveler.core.registry import Panel, add_panel  # noqa: E402


def _part_sampling(request, part) -> str:
    from traveler.mes_full.ui.sampling import part_panel

    return part_panel(request, part)


add_panel(Panel("mes_full", "mes_lite.part.detail", "Sampling", _part_sampling,
                permission="mes_full.view_samplingruleset", order=45))
