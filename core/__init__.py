"""The project's toolkit, shared by every app and importing none of them.

- `errors`: the base of domain errors; `db`: database expressions and lock settings;
  `request`: the request id and client address; `clinic_time`: the clinic's days and zone;
  `logging`: JSON log lines; `admin`: the base classes of the apps' admin pages.
- `api`: what DRF views share (errors, pagination, fields, input serializers, filters,
  throttles, permissions, health).
- `openapi`: how the schema documents errors and strict input.
"""
