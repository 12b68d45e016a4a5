// netsec serve page: upload a CSV (file picker, drag and drop, or the bundled sample), show the
// predictions (with class names, the legend and the decision threshold), a CSV download of
// them, the model card and training progress. Vanilla JS, same-origin requests only.
"use strict";

const $ = (id) => document.getElementById(id);
let phishingLabel = -1;
// Dataset coding → class name (`-1` → "phishing"), from the model card's `labels`.
const labelNames = new Map();
// The results on screen: rows as the API returned them, their input columns, the file's name.
let shown = null;

function setStatus(text, isError) {
  const el = $("status");
  el.textContent = text;
  el.className = isError ? "error" : "";
}

function errorText(body, status) {
  if (body && body.error) {
    let text = body.error.message;
    if (body.error.field) text += " (field: " + body.error.field + ")";
    return text;
  }
  return "request failed with HTTP " + status;
}

async function getJson(url, options) {
  const res = await fetch(url, options);
  let body = null;
  try { body = await res.json(); } catch (_) { body = null; }
  return { res, body };
}

function fmt(x, digits) {
  return typeof x === "number" ? x.toFixed(digits) : "–";
}

// A probability as `netsec predict` writes it: 4 decimals, more within 0.0001 of 0 or 1 so
// that two significant digits of the distance to the end show; at most 12.
function formatProbability(p) {
  if (typeof p !== "number") return "–";
  const tail = Math.min(p, 1 - p);
  const digits = tail > 0 && tail < 1e-4 ? Math.min(Math.ceil(-Math.log10(tail)) + 1, 12) : 4;
  return p.toFixed(digits);
}

function labelOf(code) {
  return labelNames.has(code) ? labelNames.get(code) : "";
}

function metric(m, names) {
  if (!m) return undefined;
  for (const n of names) if (typeof m[n] === "number") return m[n];
  return undefined;
}

async function loadModel() {
  const dl = $("model");
  const { res, body } = await getJson("/model");
  dl.textContent = "";
  const add = (k, v) => {
    const dt = document.createElement("dt"); dt.textContent = k;
    const dd = document.createElement("dd"); dd.textContent = v;
    dl.append(dt, dd);
  };
  if (!res.ok) {
    add("status", body ? errorText(body, res.status) : "no model loaded");
    return;
  }
  if (body.labels && typeof body.labels.phishing === "number") phishingLabel = body.labels.phishing;
  labelNames.clear();
  for (const [name, code] of Object.entries(body.labels || {})) labelNames.set(code, name);
  add("version", body.version);
  add("model", body.model);
  add("trained at", body.trained_at || "–");
  add("test F1", fmt(metric(body.metrics, ["f1", "test_f1"]), 4));
  add("test ROC-AUC", fmt(metric(body.metrics, ["roc_auc", "auc", "test_roc_auc"]), 4));
  add("decision threshold", fmt(body.threshold, 4));
  add("features", String(body.features ? body.features.length : "–"));
  add("loaded at", body.loaded_at || "–");
}

// "prediction -1 = phishing, 1 = legitimate; phishing when phishing_probability ≥ 0.5079", as
// `netsec predict` ends.
function legendText(threshold) {
  const phishingName = labelOf(phishingLabel) || "phishing";
  const others = [...labelNames].filter(([code]) => code !== phishingLabel)
    .map(([code, name]) => code + " = " + name);
  return "prediction " + [phishingLabel + " = " + phishingName].concat(others).join(", ") +
    "; " + phishingName + " when phishing_probability ≥ " + fmt(threshold, 4) +
    " (the model's decision threshold)";
}

function renderResults(body, name) {
  const rows = body.rows;
  const thead = $("table").tHead;
  const tbody = $("table").tBodies[0];
  thead.textContent = "";
  tbody.textContent = "";
  // The answer first (prediction, its name, probability), then the inputs: on a phone the
  // table scrolls.
  const keys = rows.length ? Object.keys(rows[0]) : [];
  const answer = ["prediction", "phishing_probability"];
  const inputs = keys.filter((k) => !answer.includes(k));
  const cols = ["prediction", "prediction_label", "phishing_probability"].concat(inputs);
  const hr = document.createElement("tr");
  for (const c of ["#"].concat(cols)) {
    const th = document.createElement("th");
    th.textContent = c;
    hr.append(th);
  }
  thead.append(hr);
  const frag = document.createDocumentFragment();
  rows.forEach((row, i) => {
    const tr = document.createElement("tr");
    const phishing = row.prediction === phishingLabel;
    if (phishing) tr.className = "phishing";
    const td0 = document.createElement("td");
    td0.textContent = String(i + 1);
    tr.append(td0);
    for (const c of cols) {
      const td = document.createElement("td");
      const v = c === "prediction_label" ? labelOf(row.prediction) : row[c];
      if (c === "phishing_probability") td.textContent = formatProbability(v);
      else td.textContent = v === null || v === undefined ? "" : String(v);
      if (c === "prediction" || c === "prediction_label") {
        td.className = phishing ? "pred-phishing" : "pred-legitimate";
      }
      tr.append(td);
    }
    frag.append(tr);
  });
  tbody.append(frag);
  const s = body.summary;
  $("summary").textContent = s.rows + " rows · " + s.phishing + " phishing (" +
    (100 * s.phishing_share).toFixed(1) + "%) · model " + body.model.version +
    " · decision threshold " + fmt(body.model.threshold, 4);
  $("legend").textContent = legendText(body.model.threshold);
  shown = { rows, inputs, name };
  $("results").hidden = false;
  document.body.dataset.resultRows = String(rows.length);
}

// One CSV field (RFC 4180): quoted when it holds a comma, a quote, a line break or edge
// spaces, with inner quotes doubled; null is an empty field.
function csvField(v) {
  const s = v === null || v === undefined ? "" : String(v);
  return /[",\r\n]|^\s|\s$/.test(s) ? "\"" + s.replace(/"/g, "\"\"") + "\"" : s;
}

// The shown results as `netsec predict` lays them out: the input columns, then `prediction`
// (dataset coding), `prediction_label` and `phishing_probability` (unrounded, as the API
// returned it, so the threshold can be re-applied exactly).
function resultsCsv(r) {
  const header = r.inputs.concat(["prediction", "prediction_label", "phishing_probability"]);
  const lines = [header.map(csvField).join(",")];
  for (const row of r.rows) {
    const cells = r.inputs.map((c) => row[c])
      .concat([row.prediction, labelOf(row.prediction), row.phishing_probability]);
    lines.push(cells.map(csvField).join(","));
  }
  return lines.join("\n") + "\n";
}

// Saves the shown results as `<uploaded name>-predictions.csv`, built in the browser (a Blob):
// nothing is sent to the server again.
function downloadCsv() {
  if (!shown) return;
  const blob = new Blob([resultsCsv(shown)], { type: "text/csv;charset=utf-8" });
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = (shown.name || "results").replace(/\.[^.]*$/, "") + "-predictions.csv";
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

async function upload(blob, name) {
  setStatus("Predicting " + name + "…", false);
  const form = new FormData();
  form.append("file", blob, name);
  try {
    const { res, body } = await getJson("/predict", {
      method: "POST",
      body: form,
      headers: { "Accept": "application/json" },
    });
    if (!res.ok) {
      setStatus(errorText(body, res.status), true);
      document.body.dataset.resultRows = "error";
      return;
    }
    renderResults(body, name);
    setStatus(name + ": " + body.summary.rows + " rows predicted.", false);
  } catch (e) {
    setStatus("Upload failed: " + e, true);
  }
}

async function trySample() {
  const res = await fetch("/sample.csv");
  if (!res.ok) { setStatus("Cannot fetch the sample: HTTP " + res.status, true); return; }
  await upload(await res.blob(), "sample-predict-input.csv");
}

function renderTask(t) {
  $("task").hidden = false;
  $("task-state").textContent = "Task " + t.task_id + ": " + t.state +
    (t.error ? " — " + t.error : "") +
    (t.state === "succeeded" ? (t.promoted ? " — new model promoted" : " — model not promoted") : "");
  const ol = $("stages");
  ol.textContent = "";
  for (const s of t.stages || []) {
    const li = document.createElement("li");
    li.className = s.outcome;
    li.textContent = s.stage + ": " + s.outcome +
      (typeof s.duration_ms === "number" ? " (" + (s.duration_ms / 1000).toFixed(2) + " s)" : "");
    ol.append(li);
  }
  $("log").textContent = (t.log_tail || []).join("\n");
}

async function pollTask(id) {
  const button = $("train");
  button.disabled = true;
  for (;;) {
    const { res, body } = await getJson("/tasks/" + encodeURIComponent(id));
    if (!res.ok) { $("task-state").textContent = errorText(body, res.status); break; }
    renderTask(body);
    if (body.state === "succeeded" || body.state === "failed") {
      await loadModel();
      break;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  button.disabled = false;
}

async function train() {
  const headers = {};
  const token = $("token").value.trim();
  if (token) headers["Authorization"] = "Bearer " + token;
  const { res, body } = await getJson("/train", { method: "POST", headers });
  if (res.status === 202 || res.status === 409) {
    const id = res.status === 202 ? body.task_id : body.error.task_id;
    await pollTask(id);
  } else {
    $("task").hidden = false;
    $("task-state").textContent = errorText(body, res.status);
  }
}

function wire() {
  const drop = $("drop");
  const file = $("file");
  drop.addEventListener("click", (e) => { if (e.target.tagName !== "LABEL") file.click(); });
  drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") file.click(); });
  file.addEventListener("change", () => { if (file.files.length) upload(file.files[0], file.files[0].name); });
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    if (e.dataTransfer.files.length) upload(e.dataTransfer.files[0], e.dataTransfer.files[0].name);
  });
  $("try-sample").addEventListener("click", trySample);
  $("train").addEventListener("click", train);
  $("download-csv").addEventListener("click", downloadCsv);
}

// ---- Experiments: the rows of `netsec exp show --json` (GET /experiments), sortable by any
// column, one metric plotted across the experiments as an inline SVG bar chart. Experiment
// names and params are untrusted: they only ever reach the page through textContent and
// setAttribute, never as markup.

const expState = { rows: [], sortKey: null, desc: false, metric: null, timer: null };

// The value of column `key` in `row`: a field, `param:KEY` or `metric:FILE:KEY`.
function expValue(row, key) {
  if (key.startsWith("param:")) return (row.params || {})[key.slice(6)];
  if (key.startsWith("metric:")) return (row.metrics || {})[key.slice(7)];
  if (key === "created") return row.created_ms;
  if (key === "duration") return row.duration_ms;
  return row[key];
}

function expColumns(rows) {
  const params = new Set();
  const metrics = new Set();
  for (const r of rows) {
    Object.keys(r.params || {}).forEach((k) => params.add(k));
    Object.keys(r.metrics || {}).forEach((k) => metrics.add(k));
  }
  const cols = [
    { key: "name", label: "Experiment" },
    { key: "rev", label: "rev" },
    { key: "status", label: "status" },
    { key: "created", label: "created" },
    { key: "duration", label: "duration" },
  ];
  for (const k of [...params].sort()) cols.push({ key: "param:" + k, label: k, kind: "param" });
  for (const k of [...metrics].sort()) cols.push({ key: "metric:" + k, label: k, kind: "metric" });
  return cols;
}

function expText(key, v) {
  if (v === undefined || v === null || v === "") return "-";
  if (key === "rev") return String(v).slice(0, 7);
  if (key === "created") return new Date(v).toISOString().replace("T", " ").slice(0, 19);
  if (key === "duration") return (v / 1000).toFixed(1) + " s";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

// Numbers numerically and before the rest; the rest by their text.
function expCompare(a, b) {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "number") return -1;
  if (typeof b === "number") return 1;
  const ta = typeof a === "string" ? a : JSON.stringify(a);
  const tb = typeof b === "string" ? b : JSON.stringify(b);
  return ta < tb ? -1 : ta > tb ? 1 : 0;
}

// The workspace and HEAD rows first, as `exp show` prints them; then the experiments in the
// chosen order (missing values last either way; ties keep the command's order).
function expSorted() {
  const pinned = expState.rows.filter((r) => r.kind !== "experiment");
  const exps = expState.rows.filter((r) => r.kind === "experiment");
  const key = expState.sortKey;
  if (key) {
    const missing = (v) => v === undefined || v === null;
    exps.sort((x, y) => {
      const a = expValue(x, key);
      const b = expValue(y, key);
      if (missing(a) || missing(b)) return Number(missing(a)) - Number(missing(b));
      const c = expCompare(a, b);
      return expState.desc ? -c : c;
    });
  }
  return pinned.concat(exps);
}

// A header click: sort by that column, ascending; the same header again reverses.
function expSort(key) {
  if (expState.sortKey === key) expState.desc = !expState.desc;
  else { expState.sortKey = key; expState.desc = false; }
  renderExpTable();
  renderExpChart();
}

function renderExpTable() {
  const table = $("exp-table");
  const thead = table.tHead;
  const tbody = table.tBodies[0];
  thead.textContent = "";
  tbody.textContent = "";
  const cols = expColumns(expState.rows);
  const hr = document.createElement("tr");
  for (const c of cols) {
    const th = document.createElement("th");
    th.dataset.key = c.key;
    if (c.kind) th.className = c.kind;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "sort";
    let label = c.label;
    if (expState.sortKey === c.key) {
      th.setAttribute("aria-sort", expState.desc ? "descending" : "ascending");
      label += expState.desc ? " \u25BC" : " \u25B2";
    }
    button.textContent = label;
    button.addEventListener("click", () => expSort(c.key));
    th.append(button);
    hr.append(th);
  }
  thead.append(hr);
  const frag = document.createDocumentFragment();
  for (const row of expSorted()) {
    const tr = document.createElement("tr");
    tr.dataset.name = row.name;
    tr.dataset.kind = row.kind;
    if (row.kind !== "experiment") tr.className = "pinned";
    if (row.message) tr.title = row.message;
    for (const c of cols) {
      const td = document.createElement("td");
      td.textContent = expText(c.key, expValue(row, c.key));
      if (c.key === "status") td.className = "status-" + String(row.status).replace(/[^a-z]/g, "");
      if (c.key === "rev" && row.rev) td.title = row.rev;
      tr.append(td);
    }
    frag.append(tr);
  }
  tbody.append(frag);
  table.dataset.sort = expState.sortKey ? expState.sortKey + ":" + (expState.desc ? "desc" : "asc") : "";
  document.body.dataset.expRows = String(expState.rows.length);
}

// An SVG element in the namespace of the page's own <svg> (so no namespace URL here).
function svgEl(name, attrs) {
  const el = document.createElementNS($("exp-svg").namespaceURI, name);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  return el;
}

function svgText(x, y, text, attrs) {
  const t = svgEl("text", Object.assign({ x: x.toFixed(1), y: y.toFixed(1) }, attrs || {}));
  t.textContent = text;
  return t;
}

// One bar per experiment that has the chosen metric, in the table's order; the workspace's
// value, when it has one, as a dashed line.
function renderExpChart() {
  const svg = $("exp-svg");
  const caption = $("exp-chart").querySelector("figcaption");
  svg.textContent = "";
  const key = expState.metric;
  svg.setAttribute("data-metric", key || "");
  if (!key) {
    svg.setAttribute("data-marks", "0");
    caption.textContent = "No metrics to plot yet.";
    return;
  }
  const exps = expSorted().filter((r) => r.kind === "experiment");
  const points = exps
    .filter((r) => typeof (r.metrics || {})[key] === "number")
    .map((r) => ({ name: r.name, v: r.metrics[key] }));
  const ws = expState.rows.find((r) => r.kind === "workspace");
  const ref = ws && typeof (ws.metrics || {})[key] === "number" ? ws.metrics[key] : null;
  const W = 640, H = 280, L = 60, R = 16, T = 16, B = 86;
  const vals = points.map((p) => p.v).concat(ref === null ? [] : [ref]);
  const lo = Math.min(0, ...vals);
  let hi = Math.max(0, ...vals);
  if (hi === lo) hi = lo + 1;
  const y = (v) => T + ((hi - v) / (hi - lo)) * (H - T - B);
  svg.setAttribute("viewBox", "0 0 " + W + " " + H);
  svg.append(svgEl("line", { class: "axis", x1: L, y1: T, x2: L, y2: H - B }));
  svg.append(svgEl("line", { class: "axis", x1: L, y1: y(0), x2: W - R, y2: y(0) }));
  for (const v of lo < 0 ? [lo, 0, hi] : [0, hi]) {
    svg.append(svgText(L - 6, y(v) + 4, expText("metric", v), { "text-anchor": "end" }));
  }
  const step = (W - L - R) / Math.max(points.length, 1);
  points.forEach((p, i) => {
    const x = L + i * step + step * 0.15;
    const w = step * 0.7;
    const top = y(Math.max(p.v, 0));
    const bottom = y(Math.min(p.v, 0));
    const bar = svgEl("rect", {
      class: "bar", x: x.toFixed(1), y: top.toFixed(1), width: w.toFixed(1),
      height: Math.max(bottom - top, 1).toFixed(1), "data-name": p.name, "data-value": p.v,
    });
    const title = svgEl("title");
    title.textContent = p.name + ": " + expText("metric", p.v);
    bar.append(title);
    svg.append(bar);
    svg.append(svgText(x + w / 2, top - 4, expText("metric", p.v), { "text-anchor": "middle" }));
    const name = p.name.length > 18 ? p.name.slice(0, 17) + "\u2026" : p.name;
    const lx = x + w / 2;
    const ly = H - B + 14;
    svg.append(svgText(lx, ly, name, {
      "text-anchor": "end", transform: "rotate(-35 " + lx.toFixed(1) + " " + ly.toFixed(1) + ")",
    }));
  });
  if (ref !== null) {
    svg.append(svgEl("line", { class: "ref", x1: L, y1: y(ref), x2: W - R, y2: y(ref) }));
    svg.append(svgText(W - R, y(ref) - 4, "workspace " + expText("metric", ref), { "text-anchor": "end" }));
  }
  svg.setAttribute("data-marks", String(points.length));
  const without = exps.length - points.length;
  caption.textContent = key + " across " + points.length + " experiment" + (points.length === 1 ? "" : "s") +
    (without ? " (" + without + " without it)" : "") + (ref !== null ? "; dashed: the workspace" : "");
}

function renderExpSelect() {
  const metrics = expColumns(expState.rows).filter((c) => c.kind === "metric").map((c) => c.label);
  const sel = $("exp-metric");
  sel.textContent = "";
  for (const k of metrics) {
    const o = document.createElement("option");
    o.value = k;
    o.textContent = k;
    sel.append(o);
  }
  if (!metrics.includes(expState.metric)) expState.metric = metrics.length ? metrics[0] : null;
  if (expState.metric) sel.value = expState.metric;
  sel.disabled = !metrics.length;
}

async function loadExperiments() {
  clearTimeout(expState.timer);
  const status = $("exp-status");
  let reply;
  try {
    reply = await getJson("/experiments");
  } catch (e) {
    status.textContent = "Cannot load the experiments: " + e;
    status.className = "error";
    return;
  }
  const { res, body } = reply;
  if (!res.ok || !Array.isArray(body)) {
    status.textContent = errorText(body, res.status);
    status.className = "error";
    document.body.dataset.expRows = "error";
    return;
  }
  expState.rows = body;
  const n = body.filter((r) => r.kind === "experiment").length;
  status.className = "";
  status.textContent = n
    ? n + " experiment" + (n === 1 ? "" : "s") + "."
    : "No experiments yet: `netsec exp run -S KEY=VALUE` records one.";
  $("exp-view").hidden = false;
  renderExpSelect();
  renderExpTable();
  renderExpChart();
  // Queued or running experiments change: look again in a while.
  if (body.some((r) => r.status === "queued" || r.status === "running")) {
    expState.timer = setTimeout(loadExperiments, 5000);
  }
}

// `?exp_click=KEY` (repeatable) clicks that column's header, `?exp_metric=KEY` chooses the
// plotted metric: the page's own controls, driven for the browser test and demos.
function expDemo(query) {
  for (const key of query.getAll("exp_click")) {
    const th = [...document.querySelectorAll("#exp-table th")].find((t) => t.dataset.key === key);
    if (th) th.querySelector("button").click();
  }
  const metric = query.get("exp_metric");
  if (metric !== null) {
    const sel = $("exp-metric");
    sel.value = metric;
    sel.dispatchEvent(new Event("change"));
  }
}

function wireExperiments() {
  $("exp-metric").addEventListener("change", () => {
    expState.metric = $("exp-metric").value;
    renderExpChart();
  });
  $("exp-refresh").addEventListener("click", loadExperiments);
}

async function main() {
  wire();
  wireExperiments();
  const query = new URLSearchParams(location.search);
  loadExperiments().then(() => expDemo(query));
  await loadModel();
  // `/?demo=sample` uploads the bundled sample at once (used by the browser test and demos);
  // `/?demo=sample-csv` then also downloads the results as CSV (the browser test's check).
  const demo = new URLSearchParams(location.search).get("demo");
  if (demo === "sample" || demo === "sample-csv") await trySample();
  if (demo === "sample-csv") downloadCsv();
}

main();
