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

async function main() {
  wire();
  await loadModel();
  // `/?demo=sample` uploads the bundled sample at once (used by the browser test and demos);
  // `/?demo=sample-csv` then also downloads the results as CSV (the browser test's check).
  const demo = new URLSearchParams(location.search).get("demo");
  if (demo === "sample" || demo === "sample-csv") await trySample();
  if (demo === "sample-csv") downloadCsv();
}

main();
