"""The API's pagination: limit/offset with bounds, so a stranger's numbers reach PostgreSQL
only when they fit (``?limit=99999999999999999999`` was a 500: bigint out of range)."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination

MAX_OFFSET = 2**31 - 1  # far beyond any table here, far below PostgreSQL's bigint


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """``limit`` 1..API_MAX_PAGE_SIZE (a larger one is cut to the maximum, as DRF documents
    ``max_limit``), ``offset`` 0..MAX_OFFSET. Anything else, ``offset=null`` included, is a
    400 instead of being silently replaced by the default."""

    @property
    def max_limit(self) -> int:
        return settings.API_MAX_PAGE_SIZE

    def _param(self, request, name: str, minimum: int, maximum: int | None) -> int | None:
        raw = request.query_params.get(name)
        if raw is None:
            return None
        text = raw.strip()
        if not text.isascii() or not text.isdigit():
            raise ValidationError({name: [_("A whole number from %(minimum)s is required.") % {"minimum": minimum}]})
        value = int(text) if len(text) <= 18 else 2**63  # int() of thousands of digits raises
        if value < minimum:
            raise ValidationError({name: [_("A whole number from %(minimum)s is required.") % {"minimum": minimum}]})
        if maximum is not None and value > maximum:
            if name == self.limit_query_param:
                return maximum
            raise ValidationError({name: [_("At most %(maximum)s.") % {"maximum": maximum}]})
        return value

    def get_limit(self, request) -> int:
        limit = self._param(request, self.limit_query_param, 1, self.max_limit)
        return self.default_limit if limit is None else limit

    def get_offset(self, request) -> int:
        return self._param(request, self.offset_query_param, 0, MAX_OFFSET) or 0

    def get_schema_operation_parameters(self, view) -> list[dict]:
        params = super().get_schema_operation_parameters(view)
        for param in params:
            if param["name"] == self.limit_query_param:
                param["schema"].update(minimum=1, description=f"At most {self.max_limit}; larger is cut.")
            elif param["name"] == self.offset_query_param:
                param["schema"].update(minimum=0, maximum=MAX_OFFSET)
        return params
