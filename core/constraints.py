"""Database constraints Django has no class for, declared in a model's ``Meta.constraints`` so
migrations carry them and SQLite's table rebuilds keep them.

``CompositeForeignKey``: the row's ``fields`` must name a row of ``to`` by ``to_fields`` (all of
them together), e.g. a player's (id, main character) must be one of the player's own
character links. It is a real ``FOREIGN KEY (a, b) REFERENCES t (x, y)`` on PostgreSQL and on
SQLite, ``DEFERRABLE INITIALLY DEFERRED`` like Django's own foreign keys: checked when the
transaction commits, so a service may write the two sides in either order; a row with any of
``fields`` NULL is not checked (SQL's MATCH SIMPLE). ``to_fields`` need a unique constraint of
their own on ``to``.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS
from django.db.models import BaseConstraint


class CompositeForeignKey(BaseConstraint):
    def __init__(self, *, fields: tuple[str, ...] | list[str], to: str, to_fields: tuple[str, ...] | list[str],
                 name: str, violation_error_message: str | None = None) -> None:
        if len(fields) != len(to_fields) or len(fields) < 2:
            raise ValueError("CompositeForeignKey needs two or more fields, as many as to_fields.")
        self.fields, self.to, self.to_fields = tuple(fields), to, tuple(to_fields)
        super().__init__(name=name, violation_error_message=violation_error_message)

    def _columns(self, model) -> tuple[list[str], str, list[str]]:
        try:  # a migration's historical models when there are some
            target = model._meta.apps.get_model(self.to)
        except LookupError:  # SQLite's table rebuild makes the model in a registry of its own
            target = apps.get_model(self.to)
        return ([model._meta.get_field(f).column for f in self.fields], target._meta.db_table,
                [target._meta.get_field(f).column for f in self.to_fields])

    def _definition(self, model, schema_editor) -> str:
        columns, table, to_columns = self._columns(model)
        quote = schema_editor.quote_name
        return (f"FOREIGN KEY ({', '.join(map(quote, columns))}) REFERENCES {quote(table)} "
                f"({', '.join(map(quote, to_columns))}) DEFERRABLE INITIALLY DEFERRED")

    def constraint_sql(self, model, schema_editor) -> str:
        return f"CONSTRAINT {schema_editor.quote_name(self.name)} {self._definition(model, schema_editor)}"

    def create_sql(self, model, schema_editor) -> str:
        return (f"ALTER TABLE {schema_editor.quote_name(model._meta.db_table)} ADD "
                f"{self.constraint_sql(model, schema_editor)}")

    def remove_sql(self, model, schema_editor) -> str:
        return (f"ALTER TABLE {schema_editor.quote_name(model._meta.db_table)} DROP CONSTRAINT "
                f"{schema_editor.quote_name(self.name)}")

    def validate(self, model, instance, exclude=None, using: str = DEFAULT_DB_ALIAS) -> None:
        """Before a save (forms, ``full_clean``): refused only when the referenced row cannot come
        into being in the same transaction, i.e. when the first of ``to_fields`` that is unique on
        its own already points elsewhere. The full rule is the database's, at commit."""
        values = [getattr(instance, model._meta.get_field(f).attname) for f in self.fields]
        if exclude and set(self.fields) & set(exclude) or any(v is None for v in values):
            return
        target = apps.get_model(self.to)
        for position, field_name in enumerate(self.to_fields):
            field = target._meta.get_field(field_name)
            if field.unique:
                row = target._default_manager.using(using).filter(**{field.attname: values[position]}).first()
                if row is not None and [getattr(row, target._meta.get_field(f).attname)
                                        for f in self.to_fields] != values:
                    raise ValidationError(self.get_violation_error_message(), code=self.violation_error_code)
                return

    def deconstruct(self) -> tuple[str, tuple, dict[str, Any]]:
        path, args, kwargs = super().deconstruct()
        kwargs.update(fields=self.fields, to=self.to, to_fields=self.to_fields)
        return path, args, kwargs

    def __eq__(self, other: object) -> bool:
        if isinstance(other, CompositeForeignKey):
            return (self.name, self.fields, self.to, self.to_fields, self.violation_error_message) == (
                other.name, other.fields, other.to, other.to_fields, other.violation_error_message)
        return super().__eq__(other)

    def __repr__(self) -> str:
        return f"<CompositeForeignKey: {self.fields} → {self.to}{self.to_fields} name={self.name!r}>"
