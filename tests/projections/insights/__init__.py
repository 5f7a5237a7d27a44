"""Scenario specifications of ``GET /v1/insights`` (docs/insights.md): one history per kind,
the quiet cases, scopes and paging, stable ids, and ``as_of`` against a live store."""
