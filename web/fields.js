// Fields page: list, create and edit fields with a live preview of their options.
import { get, post, del, enc, getVersioned, create, replace } from "./api.js";
import { h, add, clear, errorBox, warningBox, field, debounce, recordTable, inFormTerms } from "./dom.js";
import { conflictNotice } from "./conflict.js";

function input(attrs) {
  return h("input", { type: "text", spellcheck: "false", autocomplete: "off", ...attrs });
}

// "country = {country}" lines ⇄ {"country": "{country}"}
function parseLines(text) {
  const out = {};
  for (const line of text.split("\n")) {
    const i = line.indexOf("=");
    if (i <= 0) continue;
    const k = line.slice(0, i).trim();
    if (k) out[k] = line.slice(i + 1).trim();
  }
  return out;
}
const toLines = (obj) =>
  Object.entries(obj || {})
    .map(([k, v]) => `${k} = ${v}`)
    .join("\n");

const LOOKUP_TYPES = new Set(["personOrGroup", "lookup"]);

// Context keys a field's variable templates read: {country}, {+path}, {country|DE}.
export function contextKeysOf(variables) {
  const keys = new Set();
  for (const template of Object.values(variables || {}))
    for (const m of String(template).matchAll(/\{[+#]?([A-Za-z0-9_.-]+)/g)) keys.add(m[1]);
  return [...keys];
}

// Column names a template may use, from the source's SharePoint columns or, failing
// that, from the data of the previewed options.
async function columnSuggestions(source) {
  if (source && source.type === "sharepoint-list") {
    try {
      const answer = await get(`/api/v1/sources/${enc(source.name)}/sharepoint/columns`);
      // Graph sends person and lookup columns as <name>LookupId (the column itself is empty
      // unless expanded), so that is what a template can use.
      const path = (c) => "fields." + c.name + (LOOKUP_TYPES.has(c.type) ? "LookupId" : "");
      return ["id", ...(answer.columns || []).map(path)];
    } catch {
      /* fall back to the preview's data */
    }
  }
  return null;
}

function keysOf(data, prefix = "", depth = 0) {
  if (!data || typeof data !== "object" || Array.isArray(data) || depth > 1) return [];
  return Object.entries(data).flatMap(([k, v]) => (v && typeof v === "object" && !Array.isArray(v) ? keysOf(v, prefix + k + ".", depth + 1) : [prefix + k]));
}

// `etag`: the stored version being edited (saves replace only it); none for a new field, which
// is only created while its name is free. `openStored(name)` opens a stored field afresh.
function editor(spec, sources, { etag, onSaved, openStored }) {
  let isNew = !spec || !spec.name;
  spec = spec || { type: "select", value: "{id}", label: "{fields.Title}" };
  const name = input({ name: "name", value: spec.name || "", required: true, disabled: !isNew });
  const type = h("select", { name: "type" }, ["select", "multiselect", "text", "number"].map((t) => h("option", { value: t, selected: spec.type === t }, t)));
  const sourceSel = h("select", { name: "source" }, h("option", { value: "" }, "Choose a source"), sources.map((s) => h("option", { value: s.name, selected: spec.source === s.name }, s.name)));
  const value = input({ name: "value", value: spec.value || "{id}", "data-template": "" });
  const label = input({ name: "label", value: spec.label || "{fields.Title}", "data-template": "" });
  const search = input({ name: "search", value: spec.search || "", placeholder: "defaults to the label", "data-template": "" });
  const sort = input({ name: "sort", value: spec.sort || "", placeholder: "source order", "data-template": "" });
  const filter = input({ name: "filter", value: spec.filter || "", placeholder: "$[?@.fields.Active == true]" });
  const limit = input({ name: "limit", type: "number", min: 1, max: 1000, value: spec.limit || "" , placeholder: "20"});
  const variables = h("textarea", { name: "variables", rows: 2, placeholder: "country = {country}" }, toLines(spec.variables));
  const context = h("textarea", { name: "context", rows: 2, placeholder: "country = Germany" });
  const q = input({ name: "q", type: "search", placeholder: "type to search the preview" });
  const suggestions = h("div.suggestions", { role: "group", "aria-label": "Column suggestions" });
  const preview = h("div.preview", { "aria-live": "polite", id: "field-preview" });
  const saveOut = h("div.result", { "aria-live": "polite" });

  let lastTemplate = label;
  for (const el of [value, label, search, sort]) el.addEventListener("focus", () => (lastTemplate = el));

  const build = () => {
    const s = { ...(isNew ? {} : spec) };
    s.name = name.value.trim();
    s.type = type.value;
    s.source = sourceSel.value;
    for (const [k, el] of Object.entries({ value, label, search, sort, filter })) {
      if (el.value.trim()) s[k] = el.value.trim();
      else delete s[k];
    }
    if (limit.value) s.limit = Number(limit.value);
    else delete s.limit;
    const vars = parseLines(variables.value);
    if (Object.keys(vars).length) s.variables = vars;
    else delete s.variables;
    return s;
  };

  const showSuggestions = (names) => {
    clear(suggestions);
    if (!names || !names.length) return;
    add(suggestions, 
      h("span.muted", {}, "Insert a column: "),
      [...new Set(names)].slice(0, 40).map((n) =>
        h(
          "button.chip",
          {
            type: "button",
            onclick: () => {
              const el = lastTemplate;
              const token = `{${n}}`;
              const start = el.selectionStart ?? el.value.length;
              const end = el.selectionEnd ?? el.value.length;
              el.value = el.value.slice(0, start) + token + el.value.slice(end);
              el.focus();
              el.setSelectionRange(start + token.length, start + token.length);
              refresh();
            },
          },
          n
        )
      )
    );
  };

  let seq = 0;
  let suggestedFrom = null;
  const refresh = debounce(async () => {
    const s = build();
    const mine = ++seq;
    if (!s.source) {
      add(clear(preview), h("p.muted", {}, "Choose a source to preview the options."));
      return;
    }
    add(clear(preview), h("p.muted", {}, "Loading preview…"));
    if (suggestedFrom !== s.source) {
      suggestedFrom = s.source;
      columnSuggestions(sources.find((x) => x.name === s.source)).then((names) => names && mine === seq && showSuggestions(names));
    }
    try {
      const answer = await post("/api/v1/draft/field-options", { field: s, q: q.value, limit: 10, context: parseLines(context.value) });
      if (mine !== seq) return;
      const options = answer.options || [];
      if (!suggestions.childElementCount && options.length) showSuggestions(["id", ...keysOf(options[0].data || {})]);
      const given = parseLines(context.value);
      const missing = contextKeysOf(s.variables).filter((k) => !given[k]);
      add(clear(preview), 
        answer.stale ? h("p.notice.warning", {}, "Stale: the source could not be reached; showing saved records.") : null,
        options.length
          ? recordTable(
              [
                { label: "Value", get: (o) => o.value },
                { label: "Label", get: (o) => o.label },
              ],
              options,
              `${answer.total ?? options.length} options${q.value ? ` matching “${q.value}”` : ""}, first ${options.length} shown`
            )
          : missing.length
            ? h("p.notice.warning", { "data-missing": missing.join(",") }, `No options: this field depends on ${missing.join(" and ")}. Type ${missing.map((k) => `${k} = …`).join(", ")} under Context for the preview.`)
            : h("p.empty", {}, "No options."),
        warningBox(answer.warnings)
      );
    } catch (err) {
      if (mine === seq) add(clear(preview), errorBox(inFormTerms(err, form), "Preview failed"));
    }
  }, 300);

  for (const el of [type, sourceSel, value, label, search, sort, filter, limit, variables, context, q]) {
    el.addEventListener("input", refresh);
    el.addEventListener("change", refresh);
  }

  const saveBtn = h("button.primary", { type: "submit" }, "Save field");
  const heading = h("h2", {}, isNew ? "New field" : `Edit field ${spec.name}`);
  const form = h(
    "form.card.field-editor",
    {
      "aria-label": isNew ? "New field" : `Field ${spec.name}`,
      onsubmit: async (ev) => {
        ev.preventDefault();
        clear(saveOut);
        const s = build();
        try {
          const path = `/api/v1/fields/${enc(s.name)}`;
          ({ etag } = isNew ? await create(path, s) : await replace(path, s, etag));
          const keys = contextKeysOf(s.variables);
          const tryUrl = `/demo/form?field=${enc(s.name)}${keys.length ? "&context=" + enc(keys.join(",")) : ""}`;
          add(saveOut, h("div.notice.ok", { role: "status" }, h("strong", {}, "Saved"), h("p", {}, `Field ${s.name} is saved. `, h("a", { href: tryUrl, target: "_blank", rel: "noopener", id: "try-field-link" }, "Try it in the demo form"))));
          if (isNew) {
            // Further saves update the field that now exists.
            isNew = false;
            spec = s;
            name.disabled = true;
            heading.textContent = `Edit field ${s.name}`;
            form.setAttribute("aria-label", `Field ${s.name}`);
          }
          onSaved(s.name);
        } catch (err) {
          const conflict = conflictNotice("field", s.name, err, {
            open: () => openStored(s.name),
            rename: () => {
              clear(saveOut);
              name.focus();
              name.select();
            },
            reload: () => openStored(s.name),
          });
          add(saveOut, conflict || errorBox(inFormTerms(err, form), "Could not save the field"));
        }
      },
    },
    heading,
    h(
      "div.columns2",
      {},
      h(
        "div",
        {},
        field("Name", name, "Letters, digits, - and _"),
        field("Type", type),
        field("Source", sourceSel),
        field("Value template", value, "The stored key, e.g. {id}"),
        field("Label template", label, "What people see, e.g. {fields.Title} ({fields.Country})"),
        suggestions,
        field("Search template", search, "Text searched as you type"),
        field("Sort template", sort, "Prefix with - for descending"),
        field("Filter", filter, "JSONPath filter over the records"),
        field("Limit", limit),
        field("Dependent variables", variables, "One per line: source variable = template over the form's context, e.g. country = {country}")
      ),
      h("div", {}, h("h3", {}, "Live preview"), field("Context for the preview", context, "One per line, e.g. country = Germany"), field("Search", q), preview)
    ),
    h("div.buttons", {}, saveBtn),
    saveOut
  );
  refresh();
  return form;
}

export async function fieldsPage() {
  const section = h("section", { "aria-labelledby": "fields-title" });
  const listBox = h("div");
  const editorBox = h("div");
  const wantedSource = new URLSearchParams(location.hash.split("?")[1] || "").get("source");
  const [fieldsAnswer, sourcesAnswer] = await Promise.all([get("/api/v1/fields"), get("/api/v1/sources")]);
  const sources = sourcesAnswer.sources || [];

  const open = (spec, etag) => {
    add(clear(editorBox), editor(spec, sources, { etag, onSaved: reload, openStored }));
    editorBox.querySelector("input:not([disabled])")?.focus();
  };
  // An existing field is edited as stored now, with its version (not as the list showed it).
  const openStored = async (name) => {
    try {
      const { json, etag } = await getVersioned(`/api/v1/fields/${enc(name)}`);
      open(json, etag);
    } catch (err) {
      add(clear(editorBox), errorBox(err, `Could not open field ${name}`));
    }
  };
  const reload = async () => {
    const answer = await get("/api/v1/fields");
    render(answer.fields || []);
  };
  const render = (fields) => {
    clear(listBox);
    if (!fields.length) return add(listBox, h("p.empty", {}, "No fields yet."));
    add(listBox, 
      recordTable(
        [
          { label: "Field", get: (f) => f.name },
          { label: "Type", get: (f) => f.type || "select" },
          { label: "Source", get: (f) => f.source },
          { label: "Label", get: (f) => f.label || "{fields.Title}" },
          { label: "Depends on", get: (f) => Object.values(f.variables || {}).join(", ") },
        ],
        fields
      )
    );
    listBox.querySelectorAll("tbody tr").forEach((tr, i) => {
      const f = fields[i];
      tr.dataset.field = f.name;
      add(tr, 
        h(
          "td",
          {},
          h("button.small", { type: "button", "aria-label": `Edit ${f.name}`, onclick: () => openStored(f.name) }, "Edit"),
          " ",
          h(
            "button.small",
            {
              type: "button",
              "aria-label": `Delete ${f.name}`,
              onclick: async () => {
                if (!confirm(`Delete field ${f.name}?`)) return;
                try {
                  await del(`/api/v1/fields/${enc(f.name)}`);
                  await reload();
                } catch (err) {
                  listBox.prepend(errorBox(err, "Could not delete"));
                }
              },
            },
            "Delete"
          )
        )
      );
    });
    add(listBox.querySelector("thead tr"), h("th", { scope: "col" }, "Actions"));
  };
  render(fieldsAnswer.fields || []);
  add(section, h("div.page-head", {}, h("h1", { id: "fields-title" }, "Fields"), h("button.primary", { type: "button", id: "new-field", onclick: () => open(wantedSource ? { type: "select", value: "{id}", label: "{fields.Title}", source: wantedSource } : null) }, "New field")), listBox, editorBox);
  if (wantedSource) queueMicrotask(() => open({ type: "select", value: "{id}", label: "{fields.Title}", source: wantedSource }));
  return section;
}
