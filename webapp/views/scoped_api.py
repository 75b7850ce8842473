"""The base class of every scoped REST API: FAB's ModelRestApi confined to the scopes of the API user,
every write checked (webapp.views.checked_writes)."""

from __future__ import annotations

from flask import request
from flask_appbuilder import ModelRestApi
from marshmallow import ValidationError

from webapp.extensions import db
from webapp.security.rowfilters import ScopeViolation, is_visible
from webapp.security.scope import get_scope
from webapp.services import audit
from webapp.services.validation import RecordInvalid
from webapp.views.checked_writes import check_write


class ScopedModelRestApi(ModelRestApi):
    """A FAB REST API over one model, confined to the scopes of the API user."""

    allow_browser_login = False
    page_size = 25

    def __init__(self, *args, **kwargs):
        self.datamodel.view_name = self.class_permission_name or self.__class__.__name__
        super().__init__(*args, **kwargs)

    def _init_model_schemas(self):
        """FAB's schemas refuse null for nullable enums and dates; accept it where the column does."""
        super()._init_model_schemas()
        columns = self.datamodel.obj.__table__.columns
        for schema in (self.add_model_schema, self.edit_model_schema):
            for name, schema_field in schema.fields.items():
                column = columns.get(name)
                if column is not None and column.nullable:
                    schema_field.allow_none = True

    def _write(self, load, permission: str, status: int, pk=None):
        if not request.is_json:
            return self.response_400(message="Request is not JSON")
        try:
            item = load()
        except ValidationError as err:
            db.session.rollback()
            return self.response_422(message=err.messages)
        if item is None:
            return self.response_404()
        try:
            check_write(item, permission, self.class_permission_name)
        except RecordInvalid as exc:
            db.session.rollback()
            return self.response_422(message=exc.errors)
        except ScopeViolation:
            db.session.rollback()
            return self.response_403()
        db.session.commit()
        self.post_add(item) if status == 201 else self.post_update(item)
        schema = self.add_model_schema if status == 201 else self.edit_model_schema
        body = {"result": schema.dump(item, many=False)}
        if status == 201:
            body["id"] = item.id
        return self.response(status, **body)

    def post_headless(self):
        return self._write(lambda: self.add_model_schema.load(request.json), "can_post", 201)

    def put_headless(self, pk):
        def load():
            item = self.datamodel.get(pk, self._base_filters)
            if item is None:
                return None
            return self.edit_model_schema.load(self._merge_update_item(item, request.json), instance=item)

        return self._write(load, "can_put", 200, pk)

    def delete_headless(self, pk):
        item = self.datamodel.get(pk, self._base_filters)
        if item is None:
            return self.response_404()
        if not is_visible(type(item), item.id, get_scope().grants_with("can_delete", self.class_permission_name)):
            return self.response_403()
        audit.record("delete", type(item).__tablename__, item.id, member_id=audit.member_id_of(item))
        return super().delete_headless(pk)
