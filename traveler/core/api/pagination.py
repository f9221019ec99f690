from rest_framework.pagination import LimitOffsetPagination


class Pagination(LimitOffsetPagination):
    """``?limit=&offset=``; answers ``count``, ``next``, ``previous`` and ``results``.

    A page holds at most ``max_limit`` rows: a larger ``limit`` is lowered to it, and ``next``
    leads to the rest.
    """

    default_limit = 50
    max_limit = 500

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for p in parameters:
            if p["name"] == self.limit_query_param:
                p["description"] = (f"Rows per page: {self.default_limit} unless given, at most {self.max_limit} "
                                    f"(a larger limit is lowered to {self.max_limit}).")
        return parameters
