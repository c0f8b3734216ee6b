"""Pagination of the v1 lists."""

from rest_framework.pagination import PageNumberPagination

from records.reads import IdsFirstPaginator


class StandardPagination(PageNumberPagination):
    """?page=2&page_size=50 (at most 100; 20 by default: REST_FRAMEWORK["PAGE_SIZE"])."""

    # Page 500 of a 20,000-run history reads index entries, not 10,000 rows (records.reads).
    django_paginator_class = IdsFirstPaginator
    page_size_query_param = "page_size"
    max_page_size = 100
