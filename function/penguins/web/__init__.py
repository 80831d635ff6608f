"""HTTP around the one pipeline: routes, bodies, responses, the page, the OpenAPI document and the request log."""
