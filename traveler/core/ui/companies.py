"""Companies: the platform's own record pages, built on the generic views like any module's."""

from __future__ import annotations

from traveler.core.models import Company
from traveler.core.services.companies import company_archive, company_create, company_update
from traveler.core.ui.forms import CompanyForm
from traveler.core.ui.generic import (
    RecordArchiveView,
    RecordDetailView,
    RecordFormView,
    RecordListView,
    record_urls,
)


class CompanyList(RecordListView):
    model = Company
    columns = ["name", "kind", "description", "updated_at"]
    search_fields = ["name", "description"]
    filter_fields = ["kind"]


class CompanyDetail(RecordDetailView):
    model = Company
    fields = ["name", "kind", "description"]


class CompanyEdit(RecordFormView):
    model = Company
    form_class = CompanyForm
    create_service = company_create
    update_service = company_update


class CompanyArchive(RecordArchiveView):
    model = Company
    archive_service = company_archive


urlpatterns = record_urls(
    "companies/", Company, list=CompanyList, detail=CompanyDetail, form=CompanyEdit,
    archive=CompanyArchive, restore=True, history=True,
)
