"""Companies: the organisations a tenant deals with."""

from __future__ import annotations

from django.db import transaction

from traveler.core.eventbus import publish
from traveler.core.events import CompanyArchived, CompanyCreated, CompanyUpdated
from traveler.core.models import Company
from traveler.core.services.records import record_archive, record_create, record_update


def company_create(*, data: dict, reason: str | None = None) -> Company:
    with transaction.atomic():
        company = record_create(Company, data=data, reason=reason)
        publish(CompanyCreated(company_id=company.pk, company_name=company.name))
    return company


def company_update(*, company: Company, version: int | None, data: dict, reason: str | None = None) -> Company:
    with transaction.atomic():
        company = record_update(company, version=version, data=data, reason=reason)
        publish(CompanyUpdated(company_id=company.pk, fields=sorted(data)))
    return company


def company_archive(*, company: Company, version: int | None = None, reason: str | None = None) -> Company:
    with transaction.atomic():
        company = record_archive(company, version=version, reason=reason)
        publish(CompanyArchived(company_id=company.pk))
    return company
