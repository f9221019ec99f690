"""Step control's panels on other modules' pages."""

from traveler.core.registry import Panel, add_panel

# Rollbacks on the part's traveler page.


def _rollbacks(request, obj) -> str:
    from traveler.mes_full.ui.rollbacks import part_rollbacks_panel

    return part_rollbacks_panel(request, obj)


add_panel(Panel("mes_full", "mes_lite.part.detail", "Rollbacks", _rollbacks, permission="mes_full.view_steprollback",
                order=60))
