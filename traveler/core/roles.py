"""The ten roles seeded in every tenant (seed 001 section 8).

Modules grant their permissions to these roles by code in their ``permissions.py``; there is no
central role-to-permission table to edit.
"""

from __future__ import annotations

from dataclasses import dataclass

from traveler.core.models.access import RoleType

SYSTEM_ADMIN = "system_admin"
TENANT_ADMIN = "tenant_admin"
QA_MANAGER = "qa_manager"
QA_INSPECTOR = "qa_inspector"
PRODUCTION_MANAGER = "production_manager"
OPERATOR = "operator"
DOCUMENT_CONTROLLER = "document_controller"
ENGINEERING = "engineering"
AUDITOR = "auditor"
CUSTOMER = "customer"


@dataclass(frozen=True)
class RoleSpec:
    code: str
    name: str
    role_type: str
    description: str


SEEDED_ROLES: tuple[RoleSpec, ...] = (
    RoleSpec(SYSTEM_ADMIN, "System Admin", RoleType.ADMIN, "Platform administrator: everything, in every module."),
    RoleSpec(TENANT_ADMIN, "Tenant Admin", RoleType.ADMIN, "Business administrator: full access within the tenant."),
    RoleSpec(QA_MANAGER, "QA Manager", RoleType.STAFF, "Approves inspections, manages documents, owns CAPA."),
    RoleSpec(QA_INSPECTOR, "QA Inspector", RoleType.STAFF, "Performs inspections, opens CAPAs, conducts RCA."),
    RoleSpec(PRODUCTION_MANAGER, "Production Manager", RoleType.STAFF, "Scheduling, work orders, production oversight."),
    RoleSpec(OPERATOR, "Operator", RoleType.STAFF, "Production floor: moves parts, records measurements."),
    RoleSpec(DOCUMENT_CONTROLLER, "Document Controller", RoleType.STAFF, "Document classification and release."),
    RoleSpec(ENGINEERING, "Engineering", RoleType.STAFF, "Process design, measurement definitions, changes."),
    RoleSpec(AUDITOR, "Auditor", RoleType.AUDITOR, "Read-only access to records and their history."),
    RoleSpec(CUSTOMER, "Customer", RoleType.CUSTOMER, "External portal: its own company's orders, read-only."),
)

ALL_STAFF = (TENANT_ADMIN, QA_MANAGER, QA_INSPECTOR, PRODUCTION_MANAGER, OPERATOR, DOCUMENT_CONTROLLER, ENGINEERING)
ADMINS = (SYSTEM_ADMIN, TENANT_ADMIN)
READ_ALL = (*ADMINS, *ALL_STAFF[1:], AUDITOR)
