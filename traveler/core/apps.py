from django.db.models.signals import post_migrate

from traveler.core.modules import ModuleConfig


class CoreConfig(ModuleConfig):
    """The platform: tenants, users, roles, audit trail, events, jobs, API and UI shell."""

    name = "traveler.core"
    label = "core"
    verbose_name = "Platform"
    requires = ()
    switchable = False
    url_prefix = "core"  # API at /api/v1/core/
    ui_url_prefix = ""  # the shell's pages at the root
    api_enum_names = {"CompanyKindEnum": "traveler.core.models.user.Company.Kind",
                      "JobStatusEnum": "traveler.core.models.events.Job.Status",
                      "DocumentClassificationEnum": "traveler.core.models.documents.Classification",
                      "RevisionStateEnum": "traveler.core.models.documents.RevisionState"}

    def ready(self) -> None:
        super().ready()
        from traveler.core import security, tenancy  # noqa: F401  (deployment checks; the connection hook)

        post_migrate.connect(_after_migrate, sender=self, dispatch_uid="traveler-core-after-migrate")


def _after_migrate(sender, using, **kwargs) -> None:
    from django.db import connections

    from traveler.core.dbobjects import sync_database_objects
    from traveler.core.services.documents import document_types_seed_all
    from traveler.core.services.tenants import roles_sync_all

    sync_database_objects(connections[using])
    roles_sync_all()
    document_types_seed_all()  # tenants created before document control get the default types
