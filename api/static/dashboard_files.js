// The dashboard's files: upload one (table, separator, encoding) and follow it in the tasks table; open a
// load's rejected rows with their reasons, download them as CSV to fix, and replay them.
(function () {
  "use strict";
  const PAGE = 200;
  const $ = (id) => document.getElementById(id);
  const state = { taskId: null };

  function say(id, text, isError) {
    $(id).textContent = text || "";
    $(id).className = isError ? "error" : "muted";
  }

  async function send(url, options) {
    const response = await fetch(url, options);
    if (!response.ok) {
      const body = await response.json().catch(() => null);
      throw new Error((body && body.detail) || response.statusText);
    }
    return response;
  }

  function queued(id, what, body) {
    say(id, `${what}: task ${body.task_id} queued; its progress shows in the tasks table.`);
    document.dispatchEvent(new CustomEvent("task-queued", { detail: body.task_id }));
  }

  async function upload(event) {
    event.preventDefault();
    const form = new FormData();
    form.append("file", $("upload-file").files[0]);
    const query = new URLSearchParams();
    if ($("upload-delimiter").value) query.set("delimiter", $("upload-delimiter").value);
    if ($("upload-encoding").value.trim()) query.set("encoding", $("upload-encoding").value.trim());
    const table = $("upload-table").value;
    try {
      const response = await send(`/upload/${table}?${query}`, { method: "POST", body: form,
        headers: window.apiKey.headers() });
      queued("upload-message", `${$("upload-file").files[0].name} → ${table}`, await response.json());
    } catch (error) {
      say("upload-message", "Not loaded: " + error.message, true);
    }
  }

  function query() {
    return `task_id=${encodeURIComponent(state.taskId)}&table=${$("rejections-table").value}` +
      `&resolved=${$("rejections-resolved").value}`;
  }

  async function list() {
    const body = $("rejections-rows").tBodies[0];
    try {
      const page = await window.apiKey.fetchJson(`/rejections?${query()}&limit=${PAGE}`);
      body.replaceChildren();
      for (const r of page.items) {
        const row = body.insertRow();
        row.insertCell().textContent = r.line_number;
        row.insertCell().textContent = r.fields ? r.fields.join(" | ") : r.raw_text;
        row.insertCell().textContent = r.reasons.join("; ");
        row.insertCell().textContent = r.resolved_by ? `${r.resolved_by.slice(0, 8)} ${r.resolved_at}` : "";
        row.cells[0].className = "num";
      }
      const more = page.items.length === PAGE ? ` (the first ${PAGE}: download the CSV for every one)` : "";
      say("rejections-message", `${page.items.length} rows${more}`);
      $("rejections-card").dataset.rows = String(page.items.length); // the browser test waits for this
    } catch (error) {
      say("rejections-message", "Could not read the rejected rows: " + error.message, true);
    }
  }

  async function open(taskId, tables) {
    state.taskId = taskId;
    $("rejections-task").textContent = taskId;
    const select = $("rejections-table");
    select.replaceChildren(...tables.map((t) => new Option(t, t)));
    select.value = tables[tables.length - 1]; // the employees, where a load of all three rejects most
    $("rejections-card").hidden = false;
    delete $("rejections-card").dataset.rows;
    await list();
    $("rejections-card").scrollIntoView();
  }

  async function download() {
    try {
      const response = await send(`/rejections?${query()}`, { headers: window.apiKey.headers({ Accept: "text/csv" }) });
      const link = document.createElement("a");
      link.href = URL.createObjectURL(await response.blob());
      link.download = `rejections-${$("rejections-table").value}-${state.taskId}.csv`;
      document.body.append(link);
      link.click();
      link.remove();
    } catch (error) {
      say("rejections-message", "Could not download: " + error.message, true);
    }
  }

  async function replay() {
    try {
      const response = await send("/rejections/replay", { method: "POST",
        headers: window.apiKey.headers({ "Content-Type": "application/json" }),
        body: JSON.stringify({ task_id: state.taskId, table: $("rejections-table").value }) });
      queued("rejections-message", "Replay", await response.json());
    } catch (error) {
      say("rejections-message", "Not replayed: " + error.message, true);
    }
  }

  window.rejectedRows = { open: open, list: list };

  document.addEventListener("DOMContentLoaded", () => {
    $("upload-form").addEventListener("submit", upload);
    $("rejections-table").addEventListener("change", list);
    $("rejections-resolved").addEventListener("change", list);
    $("rejections-download").addEventListener("click", download);
    $("rejections-replay").addEventListener("click", replay);
  });
})();
