"""The one registry through which modules plug into Traveler.

Each installed module registers what it adds while Django starts (from its ``permissions.py``,
``navigation.py``, ``handlers.py`` and ``jobs.py``, imported by ``ModuleConfig.ready``); nothing
here names a module. The keys are fixed: permissions, menu, home pages, panels, event types and
handlers, jobs and periodic jobs, object rules, sections of printed records, guards with their waivers and recorders, notification kinds, signable and approvable
records, signature meanings and approval template types, attachable models.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Permission:
    code: str  # "<module>.<verb>_<thing>", e.g. "core.manage_users"
    label: str
    module: str
    default_roles: tuple[str, ...] = ()


@dataclass(frozen=True)
class MenuItem:
    module: str
    label: str
    url_name: str
    permission: str | None = None
    section: str = "Main"
    order: int = 100
    icon: str = ""  # a symbol of core/icons.svg, or "module:symbol" for one of <module>/icons.svg


@dataclass(frozen=True)
class HomePage:
    """The page a role lands on instead of the menu (an operator's is the station).

    ``permission`` is the one the page's view checks: without it, or with the module switched off
    for the tenant, the user gets the menu.
    """

    module: str
    role: str  # a role code, e.g. "operator"
    url_name: str
    permission: str | None = None


@dataclass(frozen=True)
class Panel:
    """A block one module adds to another module's detail page (e.g. "core.company.detail")."""

    module: str
    target: str
    title: str
    render: Callable[..., str]  # render(request, obj) -> HTML
    permission: str | tuple[str, ...] | None = None  # one permission, or several that are all needed
    order: int = 100


@dataclass(frozen=True)
class EventHandler:
    pattern: str  # an event name or a glob such as "mes.part.*"
    func: Callable[..., Any]
    name: str
    module: str
    durable: bool = False
    max_attempts: int = 5

    def matches(self, event_name: str) -> bool:
        return fnmatch.fnmatchcase(event_name, self.pattern)


@dataclass(frozen=True)
class JobSpec:
    name: str
    func: Callable[..., Any]
    module: str
    max_attempts: int = 5
    every_seconds: int | None = None  # set for periodic jobs
    atomic: bool = True  # the job's work and its completion commit together


@dataclass(frozen=True)
class Signable:
    """A model whose records people sign (21 CFR Part 11): its rows get signatures through core.

    ``permission`` is the one a signer needs besides ``core.sign_records``; ``meanings`` limits which
    meanings apply (empty: any registered meaning). ``detail_target`` is the panel target of the
    record's detail page, where the signatures are shown (``"<module>.<model>.detail"``).
    ``generic_signing=False``: its records are signed only by the module's own action whose
    signature is part of what it does (freezing a baseline, acknowledging a signal); the generic
    *Sign* action (page and API) refuses them, so no signature says what did not happen.
    """

    model: type
    module: str
    permission: str | None = None
    meanings: tuple[str, ...] = ()
    detail_target: str | None = None
    generic_signing: bool = True
    # visible(access=) -> the queryset of records this user may see, when the model narrows them beyond
    # the role type (export-controlled documents): signatures, approvals and their pages follow it.
    visible: Callable[..., Any] | None = None

    @property
    def key(self) -> str:
        return self.model._meta.label_lower


@dataclass(frozen=True)
class Approvable:
    """A model whose records can be put through an approval request.

    ``permission`` is what a user needs to request an approval of one; ``template_types`` which
    template types apply (empty: any). The owning module acts on ``core.approval.approved`` /
    ``core.approval.rejected`` events for its records.
    """

    model: type
    module: str
    permission: str
    template_types: tuple[str, ...] = ()
    detail_url: Callable[..., str] | None = None  # detail_url(obj) -> the record's page
    detail_target: str | None = None  # the panel target of its detail page (see Signable)
    visible: Callable[..., Any] | None = None  # see Signable

    @property
    def key(self) -> str:
        return self.model._meta.label_lower


# How a notification reaches its recipient: in the app (the bell and the list) or by e-mail.
NOTIFICATION_CHANNELS: dict[str, str] = {"in_app": "In the app", "email": "E-mail"}


@dataclass(frozen=True)
class NotificationKind:
    """A kind of notice a module sends (``core.approval.requested``); users choose its channels."""

    code: str  # "<module>.<name>", e.g. "qms.capa.assigned"
    label: str
    module: str
    description: str = ""
    default_channels: tuple[str, ...] = ("in_app", "email")  # for a user who chose nothing


@dataclass(frozen=True)
class Attachable:
    """A model whose records accept documents (``register_attachable``)."""

    model: type
    panel_target: str  # the detail page that shows the record's documents, e.g. "mes_lite.part.detail"
    permission: str  # who may see the record's documents panel, and (with core.manage_documents) attach
    module: str

    @property
    def label(self) -> str:
        return self.model._meta.label_lower  # "mes_lite.part"


@dataclass(frozen=True)
class PdfSection:
    """A section another module adds to a printed record (``target``: "mes_lite.part.traveler"):
    ``render(pdf, obj)`` writes it onto the ``core.pdf.RecordPdf``; shown to users with ``permission``."""

    module: str
    target: str
    title: str
    render: Callable[..., None]
    permission: str | None = None
    order: int = 100


@dataclass(frozen=True)
class GuardSpec:
    guard: Callable[..., Any]
    kind: str = ""
    overridable: bool = True


@dataclass
class Registry:
    modules: dict[str, Any] = field(default_factory=dict)
    permissions: dict[str, Permission] = field(default_factory=dict)
    menu: list[MenuItem] = field(default_factory=list)
    menu_sections: dict[str, int] = field(default_factory=dict)
    home_pages: dict[str, HomePage] = field(default_factory=dict)  # by role code
    panels: dict[str, list[Panel]] = field(default_factory=dict)
    event_types: dict[str, type] = field(default_factory=dict)
    event_handlers: list[EventHandler] = field(default_factory=list)
    jobs: dict[str, JobSpec] = field(default_factory=dict)
    object_rules: dict[str, list[Callable[..., str | None]]] = field(default_factory=dict)
    guards: dict[str, list[GuardSpec]] = field(default_factory=dict)
    waivers: dict[str, list[Callable[..., list]]] = field(default_factory=dict)
    recorders: dict[str, list[Callable[..., None]]] = field(default_factory=dict)
    signables: dict[str, Signable] = field(default_factory=dict)  # by "app_label.model"
    signature_meanings: dict[str, str] = field(default_factory=dict)  # code -> label
    approvables: dict[str, Approvable] = field(default_factory=dict)  # by "app_label.model"
    approval_template_types: dict[str, str] = field(default_factory=dict)  # code -> label
    notification_kinds: dict[str, NotificationKind] = field(default_factory=dict)
    attachables: dict[str, Attachable] = field(default_factory=dict)  # by model label ("mes_lite.part")
    pdf_sections: dict[str, list[PdfSection]] = field(default_factory=dict)  # by target

    def handlers_for(self, event_name: str) -> list[EventHandler]:
        return [h for h in self.event_handlers if h.matches(event_name)]


registry = Registry()


def _module_of(obj: Any) -> str:
    from django.apps import apps

    config = apps.get_containing_app_config(obj if isinstance(obj, str) else obj.__module__)
    return config.label if config else "core"


def declare_permissions(module: str, *perms: tuple[str, str, tuple[str, ...]]) -> None:
    """Declare a module's permissions: ``(code, label, default_roles)`` each."""
    for code, label, roles in perms:
        if not code.startswith(f"{module}."):
            raise ValueError(f"permission {code!r} must start with '{module}.'")
        if code in registry.permissions and registry.permissions[code].module != module:
            raise ValueError(f"permission {code!r} is already declared by another module")
        registry.permissions[code] = Permission(code, label, module, tuple(roles))


def declare_menu_section(name: str, order: int) -> None:
    """Where a menu section stands (lower first); sections nobody declared come after, by name."""
    registry.menu_sections[name] = order
    _sort_menu()


def add_menu_item(item: MenuItem) -> None:
    registry.menu.append(item)
    _sort_menu()


def _sort_menu() -> None:
    registry.menu.sort(key=lambda m: (registry.menu_sections.get(m.section, 50), m.section, m.order, m.label))


def set_home_page(page: HomePage) -> None:
    """Register the page where users of ``page.role`` land; one per role."""
    current = registry.home_pages.get(page.role)
    if current is not None and current != page:
        raise ValueError(f"role {page.role!r} already has a home page: {current.url_name!r} ({current.module})")
    registry.home_pages[page.role] = page


def add_panel(panel: Panel) -> None:
    registry.panels.setdefault(panel.target, []).append(panel)
    registry.panels[panel.target].sort(key=lambda p: p.order)


def add_pdf_section(section: PdfSection) -> None:
    registry.pdf_sections.setdefault(section.target, []).append(section)
    registry.pdf_sections[section.target].sort(key=lambda p: p.order)


def add_object_rule(permission: str, rule: Callable[..., str | None]) -> None:
    """``rule(user, obj)`` returns a reason to refuse, or None. Runs after the permission check."""
    registry.object_rules.setdefault(permission, []).append(rule)


@dataclass(frozen=True)
class Refusal:
    """Why a guard refuses a transition: ``kind`` names the block ("calibration_due", "training_expired"),
    so that an override of that kind can let it through; ``part_ids`` are the parts it concerns (empty:
    every part of the transition); ``overridable`` is False for blocks only their own action lifts
    (a cancelled work order, an open nonconformance)."""

    reason: str
    kind: str = ""
    part_ids: tuple[int, ...] = ()
    overridable: bool = True

    def __str__(self) -> str:
        return self.reason


GuardResult = str | Refusal | list[Refusal] | None


def add_guard(transition: str, guard: Callable[..., GuardResult], *, kind: str = "",
              overridable: bool = True) -> None:
    """Let a module block a state transition owned by another (``"mes.part.advance"``).

    The owning service calls ``guard(**context)`` before it writes; a guard returns the reason to
    refuse, in words an operator can act on, or None. Context keys are documented by the service.
    A guard returning a plain reason refuses with this ``kind``; one that checks several things may
    return ``Refusal`` objects, each with its own kind.
    """
    registry.guards.setdefault(transition, []).append(GuardSpec(guard, kind, overridable))


def remove_guard(transition: str, guard: Callable[..., GuardResult]) -> None:
    """Take a guard out again (tests that add one for a while)."""
    registry.guards[transition] = [g for g in registry.guards.get(transition, ()) if g.guard is not guard]


def add_waiver(transition: str, waiver: Callable[..., list[Refusal]]) -> None:
    """Let a module lift refusals of ``transition`` (an approved override). ``waiver(refusals, **context)``
    returns the refusals that still stand; it runs in the owner's transaction, after the guards, so it
    may record what it used (an override consumed for one more part)."""
    registry.waivers.setdefault(transition, []).append(waiver)


def add_recorder(transition: str, recorder: Callable[..., None]) -> None:
    """Let a module write its own rows of a transition owned by another, in the owner's transaction,
    after the owner wrote its own (``"mes.part.advance"``: one step execution per part). A recorder
    gets the owner's documented context and writes in as few statements as the owner does."""
    registry.recorders.setdefault(transition, []).append(recorder)


def run_recorders(transition: str, **context) -> None:
    for recorder in registry.recorders.get(transition, ()):
        recorder(**context)


def _refusals(spec: GuardSpec, result: GuardResult) -> list[Refusal]:
    if not result:
        return []
    if isinstance(result, Refusal):
        return [result]
    if isinstance(result, str):
        return [Refusal(result, kind=spec.kind, overridable=spec.overridable)]
    return [r for r in result if r]


def guard_check(transition: str, *, waive: bool = True, **context) -> list[Refusal]:
    """Every registered guard's refusal of ``transition`` that no waiver lifts (empty: allowed).
    ``waive=False`` asks what blocks without consuming any override (a station showing the step)."""
    refusals = [r for spec in registry.guards.get(transition, ()) for r in _refusals(spec, spec.guard(**context))]
    return waivers_apply(transition, refusals, **context) if waive else refusals


def waivers_apply(transition: str, refusals: list[Refusal], **context) -> list[Refusal]:
    """The refusals that stand after the waivers of ``transition`` (see ``add_waiver``)."""
    for waiver in registry.waivers.get(transition, ()):
        if not refusals:
            break
        refusals = waiver([r for r in refusals], **context)
    return refusals


def guard_refusals(transition: str, **context) -> list[str]:
    """Every registered guard's reason to refuse ``transition`` (empty: allowed)."""
    return [r.reason for r in guard_check(transition, **context)]


def declare_signature_meaning(code: str, label: str) -> None:
    """A meaning a signature can carry ("approved"); a module may add its own ("dispositioned")."""
    if registry.signature_meanings.get(code, label) != label:
        raise ValueError(f"signature meaning {code!r} is already declared as {registry.signature_meanings[code]!r}")
    registry.signature_meanings[code] = label


def register_signable(signable: Signable) -> None:
    """Let people sign records of ``signable.model``; see ``Signable``."""
    if not hasattr(signable.model, "version"):
        raise ValueError(f"{signable.key} cannot be signed: it has no version field to bind signatures to")
    current = registry.signables.get(signable.key)
    if current is not None and current != signable:
        raise ValueError(f"{signable.key} is already registered as signable by {current.module}")
    registry.signables[signable.key] = signable
    if signable.detail_target and current is None:
        add_panel(Panel(module=signable.module, target=signable.detail_target, title="Signatures and approvals",
                        render=_signatures_panel, permission="core.view_signatures", order=20))


def _signatures_panel(request, obj) -> str:
    from traveler.core.ui.approvals import signatures_panel

    return signatures_panel(request, obj)


def declare_approval_template_type(code: str, label: str) -> None:
    """A kind of approval template ("document_release"); modules add theirs."""
    if registry.approval_template_types.get(code, label) != label:
        raise ValueError(f"approval template type {code!r} is already declared")
    registry.approval_template_types[code] = label


def register_approvable(approvable: Approvable) -> None:
    """Let records of ``approvable.model`` be put through approval requests; see ``Approvable``."""
    current = registry.approvables.get(approvable.key)
    if current is not None and current != approvable:
        raise ValueError(f"{approvable.key} is already registered as approvable by {current.module}")
    registry.approvables[approvable.key] = approvable
    if approvable.key not in registry.signables:  # approvers sign the record itself
        register_signable(Signable(model=approvable.model, module=approvable.module,
                                   detail_target=approvable.detail_target, visible=approvable.visible))


def declare_notification_kind(code: str, *, label: str, description: str = "",
                              default_channels: tuple[str, ...] = ("in_app", "email")) -> NotificationKind:
    """Declare a kind of notification (from a module's ``notifications.py``). ``code`` is
    ``"<module>.<name>"``; ``default_channels`` are those of a user who has not chosen (see
    ``NOTIFICATION_CHANNELS``)."""
    module, dot, name = code.partition(".")
    if not (module and dot and name) or code != code.lower() or " " in code:
        raise ValueError(f"notification kind {code!r} must look like '<module>.<name>' (lower case)")
    unknown = [c for c in default_channels if c not in NOTIFICATION_CHANNELS]
    if unknown:
        raise ValueError(f"notification kind {code!r}: unknown channel(s) {unknown}; "
                         f"choose from {sorted(NOTIFICATION_CHANNELS)}")
    kind = NotificationKind(code, label, module, description, tuple(default_channels))
    current = registry.notification_kinds.get(code)
    if current is not None and current != kind:
        raise ValueError(f"notification kind {code!r} is already declared differently ({current.module})")
    registry.notification_kinds[code] = kind
    return kind

def register_attachable(model: type, *, panel_target: str, permission: str) -> Attachable:
    """Let documents be attached to records of ``model`` (a tenant-owned model of the caller's module).

    The record's page ``panel_target`` gets a "Documents" panel listing the documents attached to it
    that the user may see. ``permission`` is the one that lets a user see the record (the panel shows
    only with it and ``core.view_documents``; attaching and detaching also need ``core.manage_documents``).
    Attaching to a model nobody registered is refused.
    """
    module = _module_of(model)
    spec = Attachable(model=model, panel_target=panel_target, permission=permission, module=module)
    current = registry.attachables.get(spec.label)
    if current is not None:
        if current == spec:
            return current
        raise ValueError(f"{spec.label} is already registered as attachable by {current.module}")
    registry.attachables[spec.label] = spec

    def render(request, obj) -> str:
        from traveler.core.ui.documents import attachments_panel

        return attachments_panel(request, obj)

    add_panel(Panel(module, panel_target, "Documents", render, permission=(permission, "core.view_documents"),
                    order=80))
    return spec
