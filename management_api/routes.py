"""The URL list of the API: one place to read (and extend) what the service answers.

``API_ROUTES`` live under ``/api/v1``; ``ROOT_ROUTES`` at the root (probes, metrics, the docs
viewer). Add an endpoint by writing a view with ``@operation`` in its resource's module under
``views/`` and listing it here; the OpenAPI document follows automatically.
"""

from __future__ import annotations

from typing import Final

from management_api.endpoints import Route
from management_api.views import (
    auth,
    commands,
    connectors,
    docs,
    events,
    history,
    id_tags,
    ops,
    partners,
    sites,
    station_types,
    stations,
    transactions,
)

API_PREFIX: Final = "/api/v1"

API_ROUTES: Final[tuple[Route, ...]] = (
    # auth
    Route("POST", "/auth/token", auth.issue_token),
    Route("POST", "/auth/refresh", auth.refresh_token),
    Route("POST", "/auth/revoke", auth.revoke_token),
    # partners and their clients (admin)
    Route("GET", "/partners", partners.list_partners),
    Route("POST", "/partners", partners.create_partner),
    Route("GET", "/partners/{partner_id}", partners.get_partner),
    Route("PATCH", "/partners/{partner_id}", partners.update_partner),
    Route("DELETE", "/partners/{partner_id}", partners.delete_partner),
    Route("GET", "/partners/{partner_id}/clients", partners.list_clients),
    Route("POST", "/partners/{partner_id}/clients", partners.create_client),
    Route("DELETE", "/partners/{partner_id}/clients/{api_client_id}", partners.delete_client),
    # station types
    Route("GET", "/station-types", station_types.list_station_types),
    Route("POST", "/station-types", station_types.create_station_type),
    Route("GET", "/station-types/{type_id}", station_types.get_station_type),
    Route("PUT", "/station-types/{type_id}", station_types.replace_station_type),
    Route("PATCH", "/station-types/{type_id}", station_types.update_station_type),
    Route("DELETE", "/station-types/{type_id}", station_types.delete_station_type),
    # sites
    Route("GET", "/sites", sites.list_sites),
    Route("POST", "/sites", sites.create_site),
    Route("GET", "/sites/{site_id}", sites.get_site),
    Route("PUT", "/sites/{site_id}", sites.replace_site),
    Route("PATCH", "/sites/{site_id}", sites.update_site),
    Route("DELETE", "/sites/{site_id}", sites.delete_site),
    # stations
    Route("GET", "/stations", stations.list_stations),
    Route("POST", "/stations", stations.create_station),
    Route("GET", "/stations/{station_id}", stations.get_station),
    Route("PUT", "/stations/{station_id}", stations.replace_station),
    Route("PATCH", "/stations/{station_id}", stations.update_station),
    Route("DELETE", "/stations/{station_id}", stations.delete_station),
    # connectors
    Route("GET", "/stations/{station_id}/connectors", connectors.list_station_connectors),
    Route("POST", "/stations/{station_id}/connectors", connectors.create_connector),
    Route("GET", "/connectors", connectors.list_connectors),
    Route("GET", "/connectors/{connector_id}", connectors.get_connector),
    Route("PUT", "/connectors/{connector_id}", connectors.replace_connector),
    Route("PATCH", "/connectors/{connector_id}", connectors.update_connector),
    Route("DELETE", "/connectors/{connector_id}", connectors.delete_connector),
    # id tags
    Route("GET", "/id-tags", id_tags.list_id_tags),
    Route("POST", "/id-tags", id_tags.create_id_tag),
    Route("GET", "/id-tags/{id_tag_id}", id_tags.get_id_tag),
    Route("PUT", "/id-tags/{id_tag_id}", id_tags.replace_id_tag),
    Route("PATCH", "/id-tags/{id_tag_id}", id_tags.update_id_tag),
    Route("DELETE", "/id-tags/{id_tag_id}", id_tags.delete_id_tag),
    # transactions (read-only)
    Route("GET", "/transactions", transactions.list_transactions),
    Route("GET", "/transactions/{transaction_id}", transactions.get_transaction),
    # meter history
    Route("GET", "/stations/{station_id}/meter-values", history.list_meter_values),
    Route("GET", "/stations/{station_id}/metrics/latest", history.latest_metrics),
    # remote commands
    *(
        Route("POST", f"/stations/{{station_id}}/commands/{action.value}", op)
        for action, op in commands.SEND.items()
    ),
    Route("GET", "/stations/{station_id}/commands", commands.list_station_commands),
    Route("GET", "/commands/{command_id}", commands.get_command),
    # live events (websocket)
    Route("GET", "/events", events.stream_events),
    # the contract itself
    Route("GET", "/openapi.json", docs.openapi_json),
    Route("GET", "/docs", docs.docs_redirect),
)

ROOT_ROUTES: Final[tuple[Route, ...]] = (
    Route("GET", "/health", ops.health),
    Route("GET", "/ready", ops.ready),
    Route("GET", "/metrics", ops.metrics),
    Route("GET", docs.DOCS_PATH, docs.swagger_ui),
    Route("GET", f"{docs.DOCS_PATH}/init.js", docs.swagger_init),
)


def all_routes() -> tuple[tuple[str, Route], ...]:
    """Every route with the prefix it is mounted under."""
    return tuple(("", route) for route in ROOT_ROUTES) + tuple(
        (API_PREFIX, route) for route in API_ROUTES
    )
