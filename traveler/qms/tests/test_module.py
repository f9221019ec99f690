"""The quality module as a module: where it is installed, what it declares, what it may import."""

from __future__ import annotations

from pathlib import Path

import yaml

from traveler.core.registry import registry

MANIFESTS = Path(__file__).resolve().parents[3] / "manifests"


def _modules(name: str) -> list[str]:
    return yaml.safe_load((MANIFESTS / name).read_text())["modules"]


def test_installed_after_mes_lite_in_saas_and_airgapped_only():
    for name in ("saas.yaml", "airgapped.yaml"):
        modules = _modules(name)
        assert modules.index("mes_lite") < modules.index("qms"), name
    assert "qms" not in _modules("dedicated-core-only.yaml")


def test_permissions_menu_panels_and_handler_are_registered():
    assert {"qms.view_qualityreport", "qms.add_qualityreport", "qms.change_qualityreport",
            "qms.archive_qualityreport", "qms.view_qualityerrorslist", "qms.add_qualityerrorslist",
            "qms.change_qualityerrorslist", "qms.archive_qualityerrorslist"} <= set(registry.permissions)
    assert {"Quality reports", "Defect codes", "Quality dashboard"} <= {m.label for m in registry.menu if m.module == "qms"}
    assert any(p.module == "qms" and p.title == "Quality reports" for p in registry.panels["mes_lite.part.detail"])
    assert any(p.title == "Documents" for p in registry.panels["qms.qualityreport.detail"])
    [handler] = [h for h in registry.event_handlers if h.module == "qms" and h.pattern.startswith("mes.")]
    assert (handler.pattern, handler.durable) == ("mes.part.quarantined", True)


def test_mes_lite_does_not_import_quality():
    source = Path(__file__).resolve().parents[2] / "mes_lite"
    offenders = [str(p) for p in source.rglob("*.py") if "traveler.qms" in p.read_text()]
    assert not offenders
