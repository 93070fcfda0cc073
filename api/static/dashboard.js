// The dashboard: the two reports for the chosen year as charts and a table, and the recent tasks, refreshed
// every 2 s while one runs (every 15 s otherwise). Everything comes from the API's own JSON. The reports are
// asked again on each refresh with the ETag of the answer on screen: a 304 costs the server a hash, and the
// page redraws nothing.
(function () {
  "use strict";
  const QUARTERS = ["Q1", "Q2", "Q3", "Q4"];
  const COLORS = ["#2680c2", "#3ebd93", "#f0b429", "#ef4e4e"];
  const FAST_MS = 2000;
  const SLOW_MS = 15000;
  const state = { charts: {}, quarterRows: [], unfinished: new Set(), timer: null, kept: {}, notModified: 0 };
  window.dashboard = state; // read by the browser test

  const $ = (id) => document.getElementById(id);
  const api = (path) => window.apiKey.fetchJson(path);
  const hasCharts = () => typeof Chart !== "undefined";

  function say(text) {
    $("message").hidden = !text;
    $("message").textContent = text || "";
  }

  function failed(error) {
    say(error.status === 401 ? "This server needs an API key: enter it above." : "Could not read the API: " +
      error.message);
  }

  function cell(row, text, className) {
    const td = row.insertCell();
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }

  function drawChart(name, config) {
    if (!hasCharts()) return;
    if (state.charts[name]) state.charts[name].destroy();
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options);
    state.charts[name] = new Chart($(name + "-chart"), config);
  }

  function byDepartment(rows) {
    const totals = new Map();
    for (const row of rows) {
      const sums = totals.get(row.department) || [0, 0, 0, 0];
      QUARTERS.forEach((q, i) => { sums[i] += row[q]; });
      totals.set(row.department, sums);
    }
    return totals;
  }

  function showQuarters(report) {
    state.quarterRows = report.rows;
    const totals = byDepartment(report.rows);
    const departments = [...totals.keys()];
    const all = [...totals.values()].flat().reduce((a, b) => a + b, 0);
    $("quarters-total").textContent = `(${all} hires in ${report.year})`;
    drawChart("quarters", {
      type: "bar",
      data: {
        labels: departments,
        datasets: QUARTERS.map((q, i) => ({ label: q, data: departments.map((d) => totals.get(d)[i]),
          backgroundColor: COLORS[i] })),
      },
      options: {
        scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, title: { display: true, text: "hires" } } },
        onClick: (_event, elements) => {
          if (elements.length) filterJobs(departments[elements[0].index]);
        },
      },
    });
    const filter = $("department-filter");
    const chosen = filter.value;
    filter.length = 1;
    for (const d of departments) filter.add(new Option(d, d, false, d === chosen));
    showJobs();
  }

  function filterJobs(department) {
    $("department-filter").value = department;
    showJobs();
  }

  function showJobs() {
    const department = $("department-filter").value;
    const body = $("quarters-table").tBodies[0];
    body.replaceChildren();
    for (const r of state.quarterRows) {
      if (department && r.department !== department) continue;
      const row = body.insertRow();
      cell(row, r.department);
      cell(row, r.job);
      QUARTERS.forEach((q) => cell(row, r[q], "num"));
      cell(row, r.Q1 + r.Q2 + r.Q3 + r.Q4, "num");
    }
  }

  function showAboveMean(report) {
    const mean = Math.round(report.mean * 100) / 100;
    $("mean-label").textContent = `(mean ${mean} hires per department in ${report.year})`;
    const labels = report.rows.map((r) => r.department);
    drawChart("above", {
      type: "bar",
      data: {
        labels: labels,
        datasets: [
          { type: "bar", label: "hired", data: report.rows.map((r) => r.hired), backgroundColor: "#2680c2", order: 2 },
          { type: "line", label: `mean (${mean})`, data: labels.map(() => mean), borderColor: "#ef4e4e",
            backgroundColor: "#ef4e4e", borderWidth: 2, pointRadius: 0, order: 1 },
        ],
      },
      options: { scales: { y: Object.assign({ title: { display: true, text: "hires" } }, axisAround(report, mean)) } },
    });
  }

  // Report 2's bars are all above the mean, often close together: an axis from 0 would draw them the same
  // height. It starts a little below the lowest of the bars and the mean, and its title says so.
  function axisAround(report, mean) {
    const values = report.rows.map((r) => r.hired).concat([mean]);
    const low = Math.min(...values);
    const high = Math.max(...values);
    const start = Math.max(0, Math.floor(low - Math.max(1, (high - low) * 0.25)));
    if (start === 0) return { beginAtZero: true };
    return { beginAtZero: false, min: start, title: { display: true, text: `hires (the axis starts at ${start})` } };
  }

  // The report at the path: the answer kept from before when the server says 304, else the new one.
  async function report(path) {
    const kept = state.kept[path];
    const answer = await window.apiKey.fetchJsonIfChanged(path, kept && kept.etag);
    if (!answer.changed) {
      state.notModified += 1;
      return { body: kept.body, changed: false };
    }
    state.kept[path] = { etag: answer.etag, body: answer.body };
    return { body: answer.body, changed: true };
  }

  async function showReports() {
    const year = $("year").value;
    try {
      const [quarters, above] = await Promise.all([
        report(`/report/hired-by-quarter?year=${year}`), report(`/report/hiring-above-average?year=${year}`)]);
      const drawnYear = document.body.dataset.reportsYear;
      if (quarters.changed || drawnYear !== year) showQuarters(quarters.body);
      if (above.changed || drawnYear !== year) showAboveMean(above.body);
      say("");
      document.body.dataset.reportsYear = year; // the browser test waits for this
    } catch (error) {
      failed(error);
    }
  }

  function progressOf(task) {
    const p = task.progress || {};
    if (task.state === "SUCCESS") return 1;
    return p.bytes_total ? p.bytes_done / p.bytes_total : 0;
  }

  async function rejectedOf(task) {
    if (task.kind !== "load" && task.kind !== "replay") return "";
    const total = task.result && (task.result.total || {}).errors;
    if (total !== undefined) return String(total);
    if (task.state === "PENDING" || task.kind === "replay") return "";
    // Still running: count what is logged so far (one page; more shows as 1000+).
    const page = await api(`/rejections?task_id=${encodeURIComponent(task.task_id)}&limit=1000`);
    return page.items.length === 1000 ? "1000+" : String(page.items.length);
  }

  async function showTasks() {
    const list = await api("/task-list?limit=10");
    const rejected = await Promise.all(list.items.map((t) => rejectedOf(t).catch(() => "?")));
    const body = $("tasks-table").tBodies[0];
    body.replaceChildren();
    const unfinished = new Set();
    list.items.forEach((task, i) => {
      const row = body.insertRow();
      row.dataset.taskId = task.task_id;
      cell(row, task.task_id.slice(0, 8)).title = task.task_id;
      cell(row, task.kind + (task.args && task.args.table ? " " + task.args.table : ""));
      cell(row, task.state, "state-" + task.state).title = task.error || "";
      const bar = document.createElement("progress");
      bar.max = 1;
      bar.value = progressOf(task);
      cell(row, "").append(bar, ` ${Math.round(bar.value * 100)}%`);
      cell(row, (task.progress || {}).rows_done ?? "", "num");
      rejectedCell(cell(row, "", "num"), task, rejected[i]);
      cell(row, (task.submitted_at || "").replace("T", " ").slice(0, 19));
      if (!["SUCCESS", "FAILURE"].includes(task.state)) unfinished.add(task.task_id);
    });
    state.unfinished = unfinished;
    $("tasks-refreshed").textContent = `(updated ${new Date().toLocaleTimeString()})`;
    // Rows also arrive by POST /batch and by loads still running: asked each time, a 304 when unchanged.
    await showReports();
  }

  // The tables a load or replay went over, in load order: what its rejected rows may be of.
  function tablesOf(task) {
    const every = ["departments", "jobs", "hired_employees"];
    const named = (task.args || {}).table;
    if (named && named !== "all") return [named.replace("-", "_")];
    const result = task.result || {};
    return result.tables ? result.tables.map((t) => t.table) : every;
  }

  function rejectedCell(td, task, count) {
    if (!count || count === "0" || count === "?") {
      td.textContent = count;
      return;
    }
    const open = document.createElement("button");
    open.type = "button";
    open.className = "link show-rejections";
    open.textContent = count;
    open.title = "show the rejected rows";
    const loadId = task.kind === "replay" ? task.args.of_task : task.task_id;
    open.addEventListener("click", () => window.rejectedRows.open(loadId || task.task_id, tablesOf(task)));
    td.append(open);
  }

  async function refreshTasks() {
    clearTimeout(state.timer);
    try {
      await showTasks();
    } catch (error) {
      failed(error);
    }
    state.timer = setTimeout(refreshTasks, state.unfinished.size ? FAST_MS : SLOW_MS);
  }

  function fillYears() {
    const wanted = new URLSearchParams(location.search).get("year") || "2021";
    const select = $("year");
    const last = Math.max(new Date().getUTCFullYear(), Number(wanted) || 0);
    for (let y = last; y >= 2000; y--) select.add(new Option(String(y), String(y), false, String(y) === wanted));
    select.addEventListener("change", () => {
      history.replaceState(null, "", `?year=${select.value}`);
      showReports();
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("missing-assets").hidden = hasCharts();
    fillYears();
    $("department-filter").addEventListener("change", showJobs);
    document.addEventListener("api-key-changed", () => { showReports(); refreshTasks(); });
    document.addEventListener("task-queued", refreshTasks); // an upload or a replay from this page
    showReports();
    refreshTasks();
  });
})();
