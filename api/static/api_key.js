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

  async function bodyOf(response) {
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const error = new Error((body && body.detail) || response.statusText);
      error.status = response.status;
      throw error;
    }
    return body;
  }

  async function fetchJson(url) {
    return bodyOf(await fetch(url, { headers: headers() }));
  }

  // A GET that sends the ETag of the answer kept from before: {changed: false} on 304, else the new answer
  // and its ETag. "no-store" keeps the browser's own cache out of it, so that a 304 reaches this code.
  async function fetchJsonIfChanged(url, etag) {
    const response = await fetch(url, { headers: headers(etag ? { "If-None-Match": etag } : {}), cache: "no-store" });
    if (response.status === 304) return { changed: false };
    const body = await bodyOf(response);
    return { changed: true, body: body, etag: response.headers.get("ETag") };
  }

  window.apiKey = { get: get, headers: headers, fetchJson: fetchJson, fetchJsonIfChanged: fetchJsonIfChanged };

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
