"""Module machinery, deployment manifests, architecture rules, health and the API schema."""

import ast
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from traveler.core.modules import ModuleConfig
from traveler.core.registry import registry
from traveler.server.manifest import ManifestError, load_manifest

TRAVELER = Path(__file__).resolve().parents[2]


def _config(label, **attrs):
    import types

    import traveler.core as pkg

    cls = type(f"{label.title()}Config", (ModuleConfig,), {"name": f"traveler.{label}", "label": label, **attrs})
    return cls(f"traveler.{label}", types.SimpleNamespace(__path__=pkg.__path__, __file__=pkg.__file__))


def test_missing_requirement_fails_start_up_with_a_clear_message():
    config = _config("qms_test", requires=("core", "not_a_module"))
    with pytest.raises(ImproperlyConfigured, match=r"Module 'qms_test' requires 'not_a_module', which is not installed"):
        config.check_requirements()


def test_installed_requirement_passes():
    _config("spc_test", requires=("core",)).check_requirements()


@override_settings(DEPLOYMENT_TYPE="airgapped")
def test_airgapped_refuses_cloud_only_modules():
    with pytest.raises(ImproperlyConfigured, match="air-gapped"):
        _config("dms_test", cloud_only=True).check_requirements()


def test_manifest_validation(tmp_path):
    bad = tmp_path / "m.yaml"
    bad.write_text("deployment: cloud\nmodules: [core]\n")
    with pytest.raises(ManifestError, match="deployment must be one of"):
        load_manifest(bad)
    bad.write_text("modules: ['../etc']\n")
    with pytest.raises(ManifestError, match="is not a module name"):
        load_manifest(bad)
    with pytest.raises(ManifestError, match="does not exist"):
        load_manifest(tmp_path / "nope.yaml")
    good = tmp_path / "g.yaml"
    good.write_text("deployment: dedicated\nmodules: [spc]\nintegrations: [erp_csv]\n")
    m = load_manifest(good)
    assert m.modules == ("core", "spc")
    assert m.app_paths == ["traveler.core", "traveler.spc", "traveler.integrations.erp_csv"]


def test_shipped_manifests_are_valid():
    for path in (TRAVELER.parent / "manifests").glob("*.yaml"):
        assert load_manifest(path).modules[0] == "core"


def _imports(path: Path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def test_core_imports_no_other_module():
    """core never names a module; it is the other way round (also an import-linter contract)."""
    offenders = []
    for path in (TRAVELER / "core").rglob("*.py"):
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] == "traveler" and len(parts) > 1 and parts[1] not in ("core", "server"):
                offenders.append(f"{path.relative_to(TRAVELER)}: {name}")
            if name.startswith("traveler.server") and "tests" not in path.parts and path.name != "conftest.py":
                offenders.append(f"{path.relative_to(TRAVELER)}: {name}")
    assert offenders == []


def test_every_module_registers_through_the_registry():
    assert "core" in registry.modules
    assert all(p.code.startswith(f"{p.module}.") for p in registry.permissions.values())
    assert all(isinstance(m, ModuleConfig) for m in registry.modules.values())


def test_health(client, db):
    assert client.get("/health/live").json() == {"status": "ok"}
    assert client.get("/health/ready").json() == {"status": "ok", "database": "ok"}


def test_openapi_schema_and_browsable_page(client, db):
    r = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert r.status_code == 200
    schema = r.json()
    assert schema["openapi"].startswith("3.")
    assert "/api/v1/core/companies/" in schema["paths"] and "/api/v1/auth/token/" in schema["paths"]
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "swagger" in html.lower() and "cdn" not in html.lower() and "https://" not in html


def test_openapi_schema_generates_without_warnings(tmp_path, db):
    """Every path, parameter, authenticator and choice set is described; enum names are stable
    (modules name theirs with ``api_enum_names``)."""
    from django.core.management import call_command

    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", str(out))
    text = out.read_text()
    for name in ("PartStatusEnum:", "OrderStatusEnum:", "CompanyKindEnum:", "tokenAuth:"):
        assert name in text, name


def test_dedicated_install_without_a_module_answers_404_for_it(tmp_path):
    """Modules left out of the manifest do not exist: no routes, no menu, no permissions."""
    import json
    import os
    import subprocess
    import sys

    script = (
        "import django, json; django.setup()\n"
        "from django.test import Client\n"
        "from traveler.core.registry import registry\n"
        "r = Client().get('/api/v1/spc/z14/plan/?lot_size=10&aql=1.0')\n"
        "print(json.dumps({'modules': sorted(registry.modules), 'status': r.status_code,\n"
        "  'spc_perms': [p for p in registry.permissions if p.startswith('spc.')]}))\n"
    )
    env = {**os.environ, "TRAVELER_MANIFEST": str(TRAVELER.parent / "manifests" / "dedicated-core-only.yaml"),
           "DJANGO_SETTINGS_MODULE": "traveler.server.settings", "PYTHONPATH": str(TRAVELER.parent)}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"modules": ["core"], "status": 404, "spc_perms": []}


def test_start_up_refuses_a_listed_integration_that_is_not_installed(tmp_path):
    import os
    import subprocess
    import sys

    manifest = tmp_path / "with-erp.yaml"
    manifest.write_text("deployment: dedicated\nmodules: [core]\nintegrations: [erp_csv]\n")
    env = {**os.environ, "TRAVELER_MANIFEST": str(manifest), "DJANGO_SETTINGS_MODULE": "traveler.server.settings",
           "PYTHONPATH": str(TRAVELER.parent)}
    out = subprocess.run([sys.executable, "-c", "import django\ndjango.setup()\n"], env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode != 0
    assert (f"deployment manifest {manifest} lists the integration 'erp_csv', which is not installed here "
            "(no package traveler.integrations.erp_csv)") in out.stderr
    assert "ModuleNotFoundError" not in out.stderr  # refused by the manifest, not by a failed import
    manifest.write_text("deployment: dedicated\nmodules: [core, dms]\n")
    out = subprocess.run([sys.executable, "-c", "import django\ndjango.setup()\n"], env=env, capture_output=True,
                         text=True, timeout=120)
    assert "lists the module 'dms', which is not installed here" in out.stderr


def test_start_up_fails_when_a_required_module_is_missing(tmp_path):
    import os
    import subprocess
    import sys

    manifest = tmp_path / "broken.yaml"
    manifest.write_text("deployment: dedicated\nmodules: [core, spc]\n")
    env = {**os.environ, "TRAVELER_MANIFEST": str(manifest), "DJANGO_SETTINGS_MODULE": "traveler.server.settings",
           "PYTHONPATH": str(TRAVELER.parent)}
    script = ("import django\nfrom traveler.spc.apps import SpcConfig\nSpcConfig.requires = ('core', 'mes_lite')\n"
              "django.setup()\n")
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    assert "Module 'spc' requires 'mes_lite', which is not installed" in out.stderr
    assert str(manifest) in out.stderr
