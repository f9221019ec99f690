from rest_framework.pagination import LimitOffsetPagination


class Pagination(LimitOffsetPagination):
    """``?limit=&offset=``; answers ``count``, ``next``, ``previous`` and ``results``."""

    default_limit = 50
    max_limit = 500
