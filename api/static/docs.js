// Swagger UI over /openapi.json, fetched with the API key when there is one, and "Try it out" sends it too.
(function () {
  "use strict";
  const specUrl = document.currentScript.dataset.spec;

  async function show() {
    if (typeof SwaggerUIBundle === "undefined") {
      document.getElementById("missing-assets").hidden = false;
      return;
    }
    let spec;
    try {
      spec = await window.apiKey.fetchJson(specUrl);
    } catch (error) {
      document.getElementById("swagger-ui").textContent = "Could not read the document: " + error.message +
        (error.status === 401 ? " (enter the API key above)" : "");
      return;
    }
    window.ui = SwaggerUIBundle({
      spec: spec,
      dom_id: "#swagger-ui",
      deepLinking: true,
      requestInterceptor: function (request) {
        const key = window.apiKey.get();
        if (key && !request.headers["X-API-Key"] && !request.headers.Authorization) request.headers["X-API-Key"] = key;
        return request;
      },
    });
  }

  document.addEventListener("DOMContentLoaded", show);
  document.addEventListener("api-key-changed", show);
})();
