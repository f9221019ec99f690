"""Tenants, their module switches and their seeded roles."""

from __future__ import annotations

from django.db import transaction

from traveler.core.errors import InvalidInput, NotFound
from traveler.core.eventbus import publish
from traveler.core.models import Role, RolePermission, Tenant, TenantModule
from traveler.core.modules import installed_modules
from traveler.core.registry import registry
from traveler.core.roles import SEEDED_ROLES
from traveler.core.tenancy import tenant_context


def tenant_create(*, name: str, slug: str, disabled_modules: tuple[str, ...] = ()) -> Tenant:
    """Create a tenant with its module switches and the ten seeded roles with their grants."""
    if not name.strip():
        raise InvalidInput("A tenant needs a name.", fields={"name": ["required"]})
    if Tenant.objects.filter(slug=slug).exists():
        raise InvalidInput(f"A tenant with the slug {slug!r} already exists.", fields={"slug": ["must be unique"]})
    with transaction.atomic():
        tenant = Tenant.objects.create(name=name.strip(), slug=slug)
        with tenant_context(tenant):
            for module in installed_modules():
                if module.switchable:
                    enabled = module.default_enabled and module.label not in disabled_modules
                    TenantModule.objects.create(tenant=tenant, module=module.label, enabled=enabled)
        roles_sync(tenant)
        from traveler.core.services.documents import document_types_seed

        document_types_seed(tenant)
    return tenant


def roles_sync(tenant: Tenant) -> int:
    """Seed missing roles and grant each declared permission to its default roles.

    A grant is added only when the role never had it: a grant an administrator revoked (archived)
    stays revoked. Returns the number of grants added.
    """
    added = 0
    with tenant_context(tenant), transaction.atomic():
        roles = {r.code: r for r in Role.objects.all()}
        for spec in SEEDED_ROLES:
            if spec.code not in roles:
                roles[spec.code] = Role.objects.create(
                    code=spec.code, name=spec.name, role_type=spec.role_type,
                    description=spec.description, is_seeded=True,
                )
        known = set(RolePermission.objects.values_list("role__code", "permission"))
        new = []
        for perm in registry.permissions.values():
            for code in set(perm.default_roles) | {"system_admin"}:
                if code in roles and (code, perm.code) not in known:
                    new.append(RolePermission(role=roles[code], permission=perm.code))
        RolePermission.objects.bulk_create(new)
        added = len(new)
    return added


def roles_sync_all() -> None:
    for tenant in Tenant.objects.all():
        roles_sync(tenant)


def module_enabled(tenant: Tenant | None, label: str) -> bool:
    """Is module ``label`` on for ``tenant``? Modules that cannot be switched are always on."""
    module = registry.modules.get(label)
    if module is None:
        return False
    if not module.switchable or tenant is None:
        return True
    switch = TenantModule.objects.filter(tenant=tenant, module=label).values_list("enabled", flat=True).first()
    return module.default_enabled if switch is None else switch


def enabled_modules(tenant: Tenant | None) -> set[str]:
    switches = dict(TenantModule.objects.filter(tenant=tenant).values_list("module", "enabled")) if tenant else {}
    return {
        label for label, m in registry.modules.items()
        if not m.switchable or switches.get(label, m.default_enabled)
    }


def tenant_module_set(*, tenant: Tenant, module: str, enabled: bool) -> TenantModule:
    config = registry.modules.get(module)
    if config is None:
        raise NotFound(f"No module {module!r} is installed here.")
    if not config.switchable:
        raise InvalidInput(f"The {config.verbose_name} module cannot be switched off.", fields={"module": ["always on"]})
    with tenant_context(tenant), transaction.atomic():
        switch, _ = TenantModule.objects.update_or_create(tenant=tenant, module=module, defaults={"enabled": enabled})
        from traveler.core.events import ModuleSwitched

        publish(ModuleSwitched(module=module, enabled=enabled))
    return switch
