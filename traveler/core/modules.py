"""Installable modules.

A Traveler module is a Django app whose ``AppConfig`` subclasses ``ModuleConfig``::

    class SpcConfig(ModuleConfig):
        name = "traveler.spc"
        label = "spc"
        verbose_name = "Statistical process control"
        requires = ("core",)
        optional = ("mes_lite",)

At start-up, ``ready()`` checks the requirements and imports the module's conventional files,
which register what the module adds: ``permissions.py``, ``navigation.py``, ``panels.py``,
``events.py``, ``notifications.py``, ``signatures.py``, ``handlers.py``, ``jobs.py``, ``demo.py`` (demo data, see ``core.demo.demo_loader``).
Its ``api/urls.py`` is mounted at ``/api/v1/<url_prefix>/`` and its ``ui/urls.py`` at ``/<url_prefix>/``.
"""

from __future__ import annotations

import importlib
import importlib.util

from django.apps import AppConfig, apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from traveler.core.registry import registry

CONVENTIONAL_FILES = ("events", "permissions", "notifications", "signatures", "navigation", "panels", "handlers", "jobs", "demo")


class ModuleConfig(AppConfig):
    # Django picks the one AppConfig in a module's apps.py marked default; the base class, imported
    # there too, must not be a candidate, and every concrete module config is one.
    default = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "default" not in cls.__dict__:
            cls.default = True

    default_auto_field = "django.db.models.BigAutoField"
    requires: tuple[str, ...] = ("core",)
    optional: tuple[str, ...] = ()
    cloud_only: bool = False  # refused by air-gapped installs
    switchable: bool = True  # may be switched off per tenant
    default_enabled: bool = True  # its switch for a new tenant
    url_prefix: str | None = None  # API under /api/v1/<url_prefix>/; defaults to the label
    ui_url_prefix: str | None = None  # pages under /<ui_url_prefix>/; defaults to url_prefix
    # Names of the module's choice sets in the OpenAPI schema, e.g. {"PartStatusEnum": "traveler.x.choices.S"}:
    # stable names where two fields share a name ("status") but not their choices.
    api_enum_names: dict[str, str] = {}

    @property
    def prefix(self) -> str:
        return self.url_prefix if self.url_prefix is not None else self.label

    @property
    def ui_prefix(self) -> str:
        return self.ui_url_prefix if self.ui_url_prefix is not None else self.prefix

    def check_requirements(self) -> None:
        missing = [r for r in self.requires if r != self.label and not apps.is_installed(f"traveler.{r}")
                   and r not in {a.label for a in apps.get_app_configs()}]
        if missing:
            raise ImproperlyConfigured(
                f"Module '{self.label}' requires {', '.join(repr(m) for m in missing)}, which "
                f"{'is' if len(missing) == 1 else 'are'} not installed. Add "
                f"{' and '.join(missing)} to the deployment manifest ({settings.MANIFEST.source}) "
                f"or remove '{self.label}'."
            )
        if self.cloud_only and settings.DEPLOYMENT_TYPE == "airgapped":
            raise ImproperlyConfigured(
                f"Module '{self.label}' needs network services and cannot be installed in an "
                f"air-gapped deployment. Remove it from {settings.MANIFEST.source}."
            )

    def has_optional(self, label: str) -> bool:
        return label in registry.modules

    def ready(self) -> None:
        self.check_requirements()
        registry.modules[self.label] = self
        if self.api_enum_names:
            settings.SPECTACULAR_SETTINGS.setdefault("ENUM_NAME_OVERRIDES", {}).update(self.api_enum_names)
        for name in CONVENTIONAL_FILES:
            dotted = f"{self.name}.{name}"
            if importlib.util.find_spec(dotted) is not None:
                importlib.import_module(dotted)

    def submodule_exists(self, dotted: str) -> bool:
        try:
            return importlib.util.find_spec(f"{self.name}.{dotted}") is not None
        except ModuleNotFoundError:
            return False


def installed_modules() -> list[ModuleConfig]:
    return [c for c in apps.get_app_configs() if isinstance(c, ModuleConfig)]


def module_for(obj) -> ModuleConfig | None:
    """The module a view, function or dotted path belongs to."""
    path = obj if isinstance(obj, str) else obj.__module__
    config = apps.get_containing_app_config(path)
    return config if isinstance(config, ModuleConfig) else None
