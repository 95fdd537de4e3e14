"""pytest plugin for runs against SecantusDB: rewrites for two known emulator differences, loaded only by
tests/mongo/run.py (turn it off with --no-secantus-compat). Documented in docs/mongodb.md.

1. SecantusDB 0.7.0b3 answers a nested inclusion in `$project` with the literal 1 instead of the value:
    {"$project": {"rbac_permission": {"code": 1}}}  ->  {"rbac_permission": {"code": 1}}          (SecantusDB)
                                                    ->  {"rbac_permission": {"code": "VIEW_GROUPS"}} (mongod)
django-mongodb-backend projects every column of a joined collection that way (`values_list("permission__code")`,
`select_related`), so against the emulator every join reads back 1s. This plugin rewrites such inclusions into
the equivalent expression form, {"rbac_permission": {"code": "$rbac_permission.code"}}, which both mongod and
SecantusDB evaluate correctly.

2. `$addFields` with an embedded document replaces the existing embedded document instead of merging into it:
    {"$addFields": {"specs": {"fuel": "x"}}}  on {"specs": {"doors": 4}}  ->  {"specs": {"fuel": "x"}} (SecantusDB)
                                                                      ->  {"specs": {"doors": 4, "fuel": "x"}}
The backend adds ordering columns of a joined collection that way (`select_related(...).order_by("fk__name")`,
as the admin does), so the joined object loses its other fields. Rewritten into dotted paths,
{"$addFields": {"specs.fuel": "x"}}, which both evaluate the same.

Neither rewrite changes a result on a real MongoDB, and no product code depends on them.
"""

from django_mongodb_backend.query import MongoQuery

_original_get_pipeline = MongoQuery.get_pipeline


def _as_expressions(spec: dict, path: str) -> dict:
    rewritten = {}
    for key, value in spec.items():
        if value == 1 or value is True:
            rewritten[key] = f"${path}.{key}"
        elif isinstance(value, dict) and value and not any(name.startswith("$") for name in value):
            rewritten[key] = _as_expressions(value, f"{path}.{key}")
        else:
            rewritten[key] = value
    return rewritten


def _rewrite_project(stage: dict) -> dict:
    fields = stage["$project"]
    rewritten = {}
    for key, value in fields.items():
        if isinstance(value, dict) and value and not any(name.startswith("$") for name in value):
            rewritten[key] = _as_expressions(value, key)
        else:
            rewritten[key] = value
    return {"$project": rewritten}


def _is_plain_document(value) -> bool:
    return isinstance(value, dict) and bool(value) and not any(name.startswith("$") for name in value)


def _dotted(spec: dict, prefix: str = "") -> dict:
    flat = {}
    for key, value in spec.items():
        path = f"{prefix}{key}"
        if _is_plain_document(value):
            flat.update(_dotted(value, f"{path}."))
        else:
            flat[path] = value
    return flat


def _rewrite_add_fields(stage: dict) -> dict:
    return {"$addFields": _dotted(stage["$addFields"])}


def _rewrite(stage):
    if isinstance(stage, dict) and "$project" in stage:
        return _rewrite_project(stage)
    if isinstance(stage, dict) and "$addFields" in stage:
        return _rewrite_add_fields(stage)
    return stage


def _get_pipeline(self):
    return [_rewrite(stage) for stage in _original_get_pipeline(self)]


def pytest_configure(config):
    MongoQuery.get_pipeline = _get_pipeline


def pytest_unconfigure(config):
    MongoQuery.get_pipeline = _original_get_pipeline


def pytest_report_header(config):
    return "SecantusDB compat: nested $project inclusions and $addFields documents rewritten (docs/mongodb.md)"
