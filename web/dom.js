// Small DOM helpers shared by the admin pages (no framework, no build step).

// h("div.card", {onclick}, child, …): element with classes, attributes/properties and children.
export function h(tag, attrs, ...children) {
  const [name, ...classes] = tag.split(".");
  const el = document.createElement(name);
  if (classes.length) el.className = classes.join(" ");
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "value" || k === "checked" || k === "open") el[k] = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

let idCounter = 0;
export function uid(prefix) {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

// A labelled form control; `input` is created by the caller so it keeps full control.
export function field(label, input, help) {
  if (!input.id) input.id = uid("f");
  const helpEl = help ? h("small.help", { id: input.id + "-help" }, help) : null;
  if (helpEl) input.setAttribute("aria-describedby", helpEl.id);
  return h("div.field", {}, h("label", { for: input.id }, label), input, helpEl);
}

// Detail keys that exist only when an upstream service answered (status, its error, its IDs).
const UPSTREAM_ANSWER_KEYS = new Set(["http_status", "body", "error", "error_description", "aadsts", "trace_id", "correlation_id", "request_id", "client_request_id", "graph_code", "graph_message", "upstream_code", "upstream_message", "error_uri", "timestamp", "date", "retry_after"]);

// An error as a person reads it: what went wrong, what to do, and the details folded away —
// titled "Details from the upstream service" only when an upstream answered.
// `e` is an ApiError or the "error" object of an answer: {code, category, message, hint, upstream};
// `e.items` (from inFormTerms) lists one problem per entry.
export function errorBox(e, title) {
  const details = Object.entries(e.upstream || {}).filter(([k]) => k !== "issues");
  const fromUpstream = details.some(([k]) => UPSTREAM_ANSWER_KEYS.has(k));
  const items = Array.isArray(e.items) && e.items.length > 1 ? e.items : null;
  return h(
    "div.notice.error",
    { role: "alert" },
    h("strong", {}, title || "Error"),
    items ? h("ul.issues", {}, items.map((i) => h("li", {}, capitalize(i)))) : h("p.message", {}, capitalize(e.message || String(e))),
    e.hint ? h("p.hint", {}, h("span.label", {}, "How to fix: "), capitalize(e.hint)) : null,
    details.length
      ? h(
          "details.upstream",
          {},
          h("summary", {}, fromUpstream ? "Details from the upstream service" : "Details"),
          h("dl", {}, details.map(([k, v]) => [h("dt", {}, k), h("dd", {}, typeof v === "string" ? v : JSON.stringify(v))]))
        )
      : null
  );
}

// A configuration error (config.invalid) in the words of the form on screen: each problem
// names the control's label ("Client secret is required") instead of the config key and line,
// and the control is marked invalid. Other errors, and keys with no control, pass unchanged.
export function inFormTerms(e, root) {
  if (!e || e.code !== "config.invalid" || !root) return e;
  const lines = String((e.upstream && e.upstream.issues) || e.message || "").split("\n").filter(Boolean);
  let named = false;
  const items = lines.map((line) => {
    const m = line.match(/^([A-Za-z0-9_.\[\]-]+)(?: \(line \d+\))?: (.*)$/);
    if (!m) return line;
    const [, key, text] = m;
    const control = [...root.querySelectorAll("[name]")].find((el) => el.getAttribute("name") === key);
    const label = control && control.labels && control.labels[0] ? control.labels[0].textContent.trim() : "";
    if (!label) return line;
    named = true;
    control.setAttribute("aria-invalid", "true");
    control.addEventListener("input", () => control.removeAttribute("aria-invalid"), { once: true });
    const leaf = key.split(".").pop();
    const what = text.split(" — ")[0];
    if (what.startsWith(`needs ${leaf}`) || what === `${leaf} is required` || what === "is required") return `${label} is required`;
    return `${label}: ${what.startsWith(leaf + " ") ? what.slice(leaf.length + 1) : what}`;
  });
  if (!named) return e;
  return { ...e, message: items.join("; "), items, hint: lines.length === 1 ? e.hint : "" };
}

export function warningBox(warnings, title) {
  if (!warnings || !warnings.length) return null;
  return h("div.notice.warning", { role: "status" }, h("strong", {}, title || "Warnings"), h("ul", {}, warnings.map((w) => h("li", {}, capitalize(w)))));
}

export function capitalize(s) {
  s = String(s || "");
  return s ? s[0].toUpperCase() + s.slice(1) : s;
}

// "3 minutes ago" / "in 2 days" relative to now, plus the exact time in a tooltip.
export function when(iso) {
  if (!iso) return h("span.muted", {}, "never");
  const t = typeof iso === "number" ? new Date(iso > 1e12 ? iso : iso * 1000) : new Date(iso);
  if (isNaN(t)) return String(iso);
  const diff = (t.getTime() - Date.now()) / 1000;
  const abs = Math.abs(diff);
  const units = [
    [86400, "day"],
    [3600, "hour"],
    [60, "minute"],
  ];
  let text = "just now";
  for (const [secs, name] of units) {
    if (abs >= secs) {
      const n = Math.round(abs / secs);
      text = `${n} ${name}${n === 1 ? "" : "s"}`;
      text = diff < 0 ? `${text} ago` : `in ${text}`;
      break;
    }
  }
  return h("time", { datetime: t.toISOString(), title: t.toISOString() }, text);
}

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

// A table of records: columns as given, cells as text (objects as compact JSON).
export function recordTable(columns, rows, caption) {
  const cell = (v) => (v === undefined || v === null ? "" : typeof v === "object" ? JSON.stringify(v) : String(v));
  return h(
    "div.table-wrap",
    {},
    h(
      "table.records",
      {},
      caption ? h("caption", {}, caption) : null,
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c.label)))),
      h("tbody", {}, rows.map((r) => h("tr", {}, columns.map((c) => h("td", {}, cell(c.get(r)))))))
    )
  );
}

// Reads a dotted path ("fields.Title") from a record.
export function pick(obj, path) {
  return path.split(".").reduce((o, k) => (o && typeof o === "object" ? o[k] : undefined), obj);
}

// append() that skips null/false and flattens arrays, like h() does for children.
export function add(el, ...children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}
