// A form for any source kind, rendered from its settings in the kinds document
// (GET /api/v1/kinds): a new kind needs no JavaScript. Each setting becomes a control by its
// type; objects nest, `auth` offers every auth method with that method's own settings,
// lists, maps of objects and free-form values are edited as JSON. Secrets are never shown:
// a stored one stays {"set": true} unless a new value is typed.
import { h, add, clear, field, uid } from "./dom.js";

// Keys the wizard page itself asks for (name at the top, cache time beside it).
const PAGE_KEYS = new Set(["name", "type", "cache_ttl"]);
const SCALARS = new Set(["string", "url", "secret", "integer", "number", "duration", "date", "choice", "boolean", "string_or_list"]);

// Words of setting keys that people write otherwise ("sslmode" → "SSL mode", "ca" → "CA").
const WORDS = { sslmode: "SSL mode", ssl: "SSL", ca: "CA", odbc: "ODBC", sql: "SQL" };

export function labelOf(key) {
  const words = key.split("_").map((w) => WORDS[w] || w).join(" ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function helpOf(setting) {
  let help = setting.description || "";
  if (setting.variables) help += (help ? " — " : "") + "{variable} placeholders are filled from the field's context";
  if (setting.default !== null && setting.default !== undefined && setting.type !== "boolean") help += (help ? ". " : "") + `Default: ${typeof setting.default === "string" ? setting.default : JSON.stringify(setting.default)}`;
  return help;
}

const isStored = (v) => v && typeof v === "object" && !Array.isArray(v) && v.set === true;

// One control for a scalar setting; read() gives the value to store or undefined to leave it out.
function scalarControl(setting, path, value) {
  const name = path;
  if (setting.type === "boolean") {
    const box = h("input", { type: "checkbox", name, checked: value === undefined ? !!setting.default : !!value });
    const id = uid("f");
    box.id = id;
    const el = h("div.field.check", {}, box, h("label", { for: id }, labelOf(setting.key)), setting.description ? h("small.help", {}, setting.description) : null);
    return { el, read: () => (box.checked === !!setting.default && value === undefined ? undefined : box.checked) };
  }
  if (setting.type === "choice") {
    const options = setting.choices.map((c) => h("option", { value: c, selected: (value ?? setting.default) === c }, c));
    const blank = setting.required || setting.default !== null ? null : h("option", { value: "", selected: value === undefined }, "—");
    const select = h("select", { name }, blank, options);
    return { el: field(labelOf(setting.key), select, helpOf(setting)), read: () => (select.value === "" ? undefined : select.value) };
  }
  if (setting.type === "secret") {
    const stored = isStored(value);
    const input = h("input", { type: "password", name, autocomplete: "new-password", spellcheck: "false", required: setting.required && !stored, placeholder: stored ? "stored — type a new value to replace it" : "" });
    const help = (setting.description ? setting.description + ". " : "") + (stored ? "Stored; never shown again. Leave empty to keep it." : "Sent to the server, never shown again.");
    return { el: field(labelOf(setting.key), input, help), read: () => (input.value ? input.value : stored ? { set: true } : undefined) };
  }
  const types = { url: "url", date: "date", integer: "number", number: "number" };
  const shown = value === undefined ? "" : Array.isArray(value) ? value.join(", ") : String(value);
  const placeholder = setting.default !== null && setting.default !== undefined ? String(setting.default) : "";
  const input = h("input", { type: types[setting.type] || "text", name, value: shown, placeholder, spellcheck: "false", autocomplete: "off", required: setting.required });
  const read = () => {
    const text = input.value.trim();
    if (!text) return undefined;
    if (setting.type === "integer" || setting.type === "number") return Number(text);
    return text;
  };
  return { el: field(labelOf(setting.key), input, helpOf(setting)), read };
}

// Maps, lists, maps of objects and free-form values: JSON in a text area.
function jsonControl(setting, path, value, errors) {
  const area = h("textarea", { name: path, rows: 4, spellcheck: "false", placeholder: setting.type === "string_map" ? '{"name": "value"}' : "JSON" }, value === undefined ? "" : JSON.stringify(value, null, 2));
  area.value = value === undefined ? "" : JSON.stringify(value, null, 2);
  const read = () => {
    const text = area.value.trim();
    if (!text) return undefined;
    try {
      return JSON.parse(text);
    } catch {
      // A body may be a plain string; anything else must be JSON.
      if (setting.type === "any") return text;
      errors.push(`${path}: not valid JSON`);
      return undefined;
    }
  };
  return { el: field(labelOf(setting.key), area, helpOf(setting) + (setting.type === "any" ? "" : " (JSON)")), read };
}

// The `auth` object: one select of methods, then the chosen method's settings.
function authControl(setting, path, value, doc, errors) {
  const current = value && typeof value === "object" ? value : { type: "none" };
  const select = h("select", { name: path + ".type" }, doc.auth.map((m) => h("option", { value: m.type, selected: (current.type || "none") === m.type }, m.title)));
  const box = h("div.auth-fields");
  let inner = null;
  const show = () => {
    const method = doc.auth.find((m) => m.type === select.value);
    const settings = method.settings.filter((s) => s.key !== "type");
    inner = objectControls(settings, path, method.type === current.type ? current : {}, doc, errors);
    add(clear(box), inner.els);
  };
  select.addEventListener("change", show);
  show();
  const el = h("fieldset.nested", {}, h("legend", {}, labelOf(setting.key)), field("Method", select, setting.description), box);
  const read = () => {
    if (select.value === "none") return undefined;
    const out = inner.read();
    return { ...(out || {}), type: select.value };
  };
  return { el, read };
}

function control(setting, path, value, doc, errors) {
  if (setting.one_of === "auth") return authControl(setting, path, value, doc, errors);
  if (setting.type === "object" && setting.settings) {
    const inner = objectControls(setting.settings, path, value || {}, doc, errors);
    const el = h("details.nested", { open: value !== undefined }, h("summary", {}, labelOf(setting.key), setting.description && setting.description !== labelOf(setting.key) ? h("span.muted", {}, " — " + setting.description) : null), inner.els);
    return { el, read: inner.read };
  }
  if (SCALARS.has(setting.type)) return scalarControl(setting, path, value);
  return jsonControl(setting, path, value, errors);
}

// Controls for a list of settings; read() gives the object (undefined when nothing is set).
function objectControls(settings, prefix, values, doc, errors) {
  const parts = settings.map((s) => {
    const path = prefix ? `${prefix}.${s.key}` : s.key;
    const c = control(s, path, values[s.key], doc, errors);
    c.el.dataset.key = path;
    return { key: s.key, ...c };
  });
  const read = () => {
    const out = {};
    for (const p of parts) {
      const v = p.read();
      if (v !== undefined) out[p.key] = v;
    }
    return Object.keys(out).length ? out : undefined;
  };
  return { els: parts.map((p) => p.el), read };
}

// The form for `kind` (an entry of doc.sources). ctx.base() gives the spec the page owns
// (name, cache_ttl and, when editing, the stored spec); spec() returns it completed.
export function kindForm(ctx, kind, doc) {
  const ex = ctx.existing || {};
  const errors = [];
  const own = kind.settings.filter((s) => !PAGE_KEYS.has(s.key) && !s.common);
  const common = kind.settings.filter((s) => !PAGE_KEYS.has(s.key) && s.common);
  const main = objectControls(own, "", ex, doc, errors);
  const more = objectControls(common, "", ex, doc, errors);
  const form = h(
    "div.preset",
    { "data-kind": kind.type },
    h("fieldset.step", {}, h("legend", {}, h("span.step-no", {}, "1"), " ", kind.title), h("p.muted", {}, kind.description), main.els, h("details.advanced", {}, h("summary", {}, "Settings every source has"), more.els))
  );
  const spec = () => {
    errors.length = 0;
    const s = { ...ctx.base(), type: kind.type };
    for (const setting of [...own, ...common]) delete s[setting.key];
    Object.assign(s, main.read() || {}, more.read() || {});
    if (errors.length) throw new Error(errors.join("; "));
    return s;
  };
  const firstInput = form.querySelector("input, select, textarea");
  return { form, spec, firstInput, authenticates: kind.settings.some((s) => s.one_of === "auth") };
}
