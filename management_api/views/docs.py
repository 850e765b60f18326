"""The OpenAPI document and its interactive viewer, served offline.

Swagger UI's assets come from the ``swagger-ui-bundle`` package (served under
``/api/docs/static/``), and the page loads no script inline, so the viewer works without
internet access and under a strict Content-Security-Policy.
"""

from __future__ import annotations

from aiohttp import web

from management_api.endpoints import operation
from management_api.keys import OPENAPI

DOCS_PATH = "/api/docs"
STATIC_PATH = f"{DOCS_PATH}/static"
OPENAPI_PATH = "/api/v1/openapi.json"

_PAGE = f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>EV CSMS management API</title>
  <link rel="stylesheet" href="{STATIC_PATH}/swagger-ui.css">
  <link rel="icon" type="image/png" href="{STATIC_PATH}/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{STATIC_PATH}/swagger-ui-bundle.js"></script>
  <script src="{STATIC_PATH}/swagger-ui-standalone-preset.js"></script>
  <script src="{DOCS_PATH}/init.js"></script>
</body>
</html>
"""

_INIT = f"""window.onload = function () {{
  window.ui = SwaggerUIBundle({{
    url: "{OPENAPI_PATH}",
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout"
  }});
}};
"""

_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'"
)


@operation(tag="ops", roles=None, in_schema=False)
async def openapi_json(request: web.Request) -> web.Response:
    """The OpenAPI 3 document of this API."""
    return web.Response(body=request.app[OPENAPI], content_type="application/json")


@operation(tag="ops", roles=None, in_schema=False)
async def swagger_ui(request: web.Request) -> web.Response:
    """The interactive API viewer."""
    return web.Response(
        text=_PAGE, content_type="text/html", headers={"Content-Security-Policy": _CSP}
    )


@operation(tag="ops", roles=None, in_schema=False)
async def swagger_init(request: web.Request) -> web.Response:
    """The viewer's start-up script, pointed at this API's document."""
    return web.Response(text=_INIT, content_type="application/javascript")


@operation(tag="ops", roles=None, in_schema=False)
async def docs_redirect(request: web.Request) -> web.Response:
    """``/api/v1/docs`` (the path SPEC names) leads to the viewer."""
    raise web.HTTPFound(DOCS_PATH)
