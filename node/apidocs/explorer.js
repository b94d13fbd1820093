// Start Swagger UI on this node's own OpenAPI document (same origin, no network).
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/api/0/openapi.json",
    dom_id: "#explorer",
    deepLinking: true,
    validatorUrl: null,
  });
});
