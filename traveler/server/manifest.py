"""The deployment manifest: which modules and integrations this installation runs.

A manifest is a small YAML file (see ``manifests/``)::

    deployment: saas          # saas | dedicated | airgapped
    modules: [core, spc]      # core is always installed
    integrations: []          # e.g. [erp_csv]

It is read once at start-up; modules are never added or removed at run time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

DEPLOYMENT_TYPES = ("saas", "dedicated", "airgapped")
ROOT = Path(__file__).resolve().parents[2]


class ManifestError(Exception):
    pass


@dataclass(frozen=True)
class Manifest:
    deployment: str
    modules: tuple[str, ...]
    integrations: tuple[str, ...] = ()
    customer: str = ""
    source: str = ""
    extra: dict = field(default_factory=dict)

    def check_available(self) -> None:
        """Refuse, naming it, a module or integration the manifest lists that this installation does not
        have (its package is not installed), before Django tries to import it."""
        import importlib.util

        for kind, names, prefix in (("module", self.modules, "traveler"),
                                    ("integration", self.integrations, "traveler.integrations")):
            for name in names:
                try:
                    found = importlib.util.find_spec(f"{prefix}.{name}") is not None
                except ModuleNotFoundError:
                    found = False
                if not found:
                    raise ManifestError(
                        f"deployment manifest {self.source} lists the {kind} {name!r}, which is not installed here "
                        f"(no package {prefix}.{name}). Install it or remove it from the manifest.")

    @property
    def app_paths(self) -> list[str]:
        apps = [f"traveler.{m}" for m in self.modules]
        apps += [f"traveler.integrations.{i}" for i in self.integrations]
        return apps


def load_manifest(path: str | os.PathLike | None = None) -> Manifest:
    path = Path(path or os.environ.get("TRAVELER_MANIFEST") or ROOT / "manifests" / "saas.yaml")
    if not path.exists():
        raise ManifestError(f"deployment manifest {path} does not exist (set TRAVELER_MANIFEST)")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ManifestError(f"deployment manifest {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ManifestError(f"deployment manifest {path} must be a mapping")
    deployment = data.get("deployment", "saas")
    if deployment not in DEPLOYMENT_TYPES:
        raise ManifestError(
            f"deployment manifest {path}: deployment must be one of {', '.join(DEPLOYMENT_TYPES)}, "
            f"not {deployment!r}"
        )
    modules = list(data.get("modules") or [])
    integrations = list(data.get("integrations") or [])
    for name in modules + integrations:
        if not isinstance(name, str) or not name.isidentifier():
            raise ManifestError(f"deployment manifest {path}: {name!r} is not a module name")
    if "core" in modules:
        modules.remove("core")
    return Manifest(
        deployment=deployment,
        modules=("core", *modules),
        integrations=tuple(integrations),
        customer=str(data.get("customer", "")),
        source=str(path),
        extra={k: v for k, v in data.items() if k not in {"deployment", "modules", "integrations", "customer"}},
    )
