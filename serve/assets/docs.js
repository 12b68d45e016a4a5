// Renders /openapi.json as a readable page: every path and method with its parameters, request
// bodies and responses, then the schemas. No external renderer.
"use strict";

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function schemaText(s) {
  if (!s) return "";
  if (s.$ref) return s.$ref.replace("#/components/schemas/", "");
  if (s.oneOf) return s.oneOf.map(schemaText).join(" | ");
  if (s.type === "array") return schemaText(s.items) + "[]";
  if (s.enum) return s.enum.map(String).join(" | ");
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (Array.isArray(s.type)) return s.type.join(" | ");
  return s.type || "object";
}

function renderSchemaTable(schema) {
  const props = schema.properties || {};
  const required = new Set(schema.required || []);
  const table = el("table");
  const head = el("tr");
  ["field", "type", "description"].forEach((h) => head.append(el("th", h)));
  table.append(head);
  for (const [name, p] of Object.entries(props)) {
    const tr = el("tr");
    tr.append(el("td", name + (required.has(name) ? " *" : "")), el("td", schemaText(p)), el("td", p.description || ""));
    table.append(tr);
  }
  return table;
}

async function main() {
  const root = document.getElementById("docs");
  const res = await fetch("/openapi.json");
  const doc = await res.json();
  root.textContent = "";
  const intro = el("section", undefined, "card");
  intro.append(el("h2", doc.info.title + " " + doc.info.version), el("p", doc.info.description));
  root.append(intro);
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const card = el("section", undefined, "card");
      card.style.marginTop = "1rem";
      card.append(el("h2", method.toUpperCase() + " " + path));
      card.append(el("p", op.summary || ""));
      if (op.description) card.append(el("p", op.description, "hint"));
      if (op.parameters && op.parameters.length) {
        card.append(el("h3", "Parameters"));
        const ul = el("ul");
        for (const p of op.parameters) ul.append(el("li", p.name + " (" + p.in + (p.required ? ", required" : "") + "): " + schemaText(p.schema) + (p.description ? " — " + p.description : "")));
        card.append(ul);
      }
      if (op.requestBody) {
        card.append(el("h3", "Request body"));
        const ul = el("ul");
        for (const [type, media] of Object.entries(op.requestBody.content)) ul.append(el("li", type + ": " + schemaText(media.schema)));
        card.append(ul);
      }
      card.append(el("h3", "Responses"));
      const ul = el("ul");
      for (const [code, r] of Object.entries(op.responses)) {
        const types = r.content ? Object.entries(r.content).map(([t, m]) => t + " " + schemaText(m.schema)).join(", ") : "";
        ul.append(el("li", code + " — " + r.description + (types ? " (" + types + ")" : "")));
      }
      card.append(ul);
      root.append(card);
    }
  }
  const schemas = el("section", undefined, "card");
  schemas.style.marginTop = "1rem";
  schemas.append(el("h2", "Schemas"));
  for (const [name, s] of Object.entries(doc.components.schemas)) {
    schemas.append(el("h3", name + (s.type ? " (" + schemaText(s) + ")" : "")));
    if (s.description) schemas.append(el("p", s.description, "hint"));
    if (s.properties) {
      const wrap = el("div", undefined, "table-wrap");
      wrap.append(renderSchemaTable(s));
      schemas.append(wrap);
    }
  }
  root.append(schemas);
}

main().catch((e) => { document.getElementById("docs").textContent = "Cannot render /openapi.json: " + e; });
