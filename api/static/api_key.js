// The API key, when the server has API_KEY set: typed once, kept for this tab (sessionStorage), sent as X-API-Key.
(function () {
  "use strict";
  const STORAGE_KEY = "hr-api-key";

  function get() {
    return sessionStorage.getItem(STORAGE_KEY) || "";
  }

  function headers(extra) {
    const all = Object.assign({ Accept: "application/json" }, extra || {});
    if (get()) all["X-API-Key"] = get();
    return all;
  }

  async function fetchJson(url) {
    const response = await fetch(url, { headers: headers() });
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const error = new Error((body && body.detail) || response.statusText);
      error.status = response.status;
      throw error;
    }
    return body;
  }

  window.apiKey = { get: get, headers: headers, fetchJson: fetchJson };

  document.addEventListener("DOMContentLoaded", function () {
    const form = document.getElementById("api-key-form");
    if (!form) return;
    const input = document.getElementById("api-key");
    input.value = get();
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      sessionStorage.setItem(STORAGE_KEY, input.value.trim());
      document.dispatchEvent(new CustomEvent("api-key-changed"));
    });
  });
})();
