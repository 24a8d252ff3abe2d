// extdata field widget: turns <input data-extdata-field="customer"> into an accessible
// combobox (WAI-ARIA 1.2 combobox pattern with a listbox popup) backed by
// GET /api/v1/fields/{field}/options. Load it with
//   <script type="module" src="https://extdata.example.com/widget.js"></script>
// Attributes on the input:
//   data-extdata-field="customer"      the field whose options are offered (required)
//   data-extdata-context="country"     comma-separated names of other extdata inputs (or
//                                      plain form controls) whose values go into the context
//   data-extdata-value-of="customer"   text fields: fill with /value?key=<that input's value>
//   data-extdata-base="https://…"      API origin (default: where widget.js came from)
//   data-extdata-token="…"             a reader token (omit when the server allows anonymous reads)
// The chosen value goes into a hidden input that takes over the original input's name;
// the visible input shows the label. An `extdata-change` event (detail {value,label,data})
// and a `change` event fire on the visible input when the choice changes.
const SCRIPT_ORIGIN = (() => {
  try {
    return new URL(import.meta.url).origin;
  } catch {
    return location.origin;
  }
})();
const DEBOUNCE_MS = 200;
const PAGE = 20;
let seq = 0;

const STYLE = `
.extdata-combo{position:relative;display:inline-block;width:100%;max-width:32rem}
.extdata-combo input[role=combobox]{width:100%;box-sizing:border-box;padding-right:2rem}
.extdata-combo .extdata-toggle{position:absolute;right:.25rem;top:.45rem;border:0;background:none;cursor:pointer;font-size:.8rem;padding:.25rem;color:inherit}
.extdata-combo [role=listbox]{position:absolute;z-index:1000;left:0;right:0;margin:2px 0 0;padding:0;list-style:none;max-height:16rem;overflow:auto;background:#fff;color:#111;border:1px solid #8a8f98;border-radius:4px;box-shadow:0 4px 12px rgba(0,0,0,.15)}
.extdata-combo [role=option]{padding:.4rem .6rem;cursor:pointer}
.extdata-combo [role=option][aria-selected=true]{background:#0b5cad;color:#fff}
.extdata-combo [role=option] .extdata-check{display:inline-block;width:1.1em}
.extdata-combo .extdata-note{padding:.4rem .6rem;color:#444;font-style:italic}
.extdata-combo .extdata-note.extdata-error{color:#a4000f;font-style:normal}
.extdata-combo .extdata-status{font-size:.8rem;color:#555;min-height:1em}
.extdata-combo .extdata-status.extdata-stale{color:#8a5300}
.extdata-combo .extdata-status.extdata-error{color:#a4000f}
.extdata-combo[data-state=loading] input[role=combobox]{background-image:linear-gradient(90deg,transparent,rgba(11,92,173,.12),transparent);background-size:200% 100%;animation:extdata-pulse 1s linear infinite}
@keyframes extdata-pulse{from{background-position:200% 0}to{background-position:-200% 0}}
@media (prefers-reduced-motion:reduce){.extdata-combo[data-state=loading] input[role=combobox]{animation:none}}
.extdata-visually-hidden{position:absolute!important;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
`;

function injectStyle() {
  if (document.getElementById("extdata-widget-style")) return;
  const style = document.createElement("style");
  style.id = "extdata-widget-style";
  style.textContent = STYLE;
  document.head.append(style);
}

function el(tag, props = {}, attrs = {}) {
  const e = Object.assign(document.createElement(tag), props);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  return e;
}

function describeError(body, status) {
  const e = (body && body.error) || {};
  const message = e.message || (status ? `the server answered HTTP ${status}` : "the options service did not answer");
  return e.hint ? `${message}. ${e.hint}` : message;
}

async function fetchJson(url, token, signal) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = "Bearer " + token;
  let res;
  try {
    res = await fetch(url, { headers, signal });
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new Error("the options service did not answer");
  }
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = null;
  }
  if (!res.ok) throw new Error(describeError(body, res.status));
  return body || {};
}

// Inputs of the same form (or document) by extdata field name, id or name attribute.
function findControl(scope, key) {
  const root = scope.closest("form") || document;
  return root.querySelector(`[data-extdata-field="${CSS.escape(key)}"]`) || root.querySelector(`#${CSS.escape(key)}`) || root.querySelector(`[name="${CSS.escape(key)}"]`);
}

function valueOf(control) {
  if (!control) return "";
  if (control._extdata) return control._extdata.value;
  return control.value || "";
}

class Combobox {
  constructor(input) {
    this.input = input;
    this.field = input.dataset.extdataField;
    this.base = (input.dataset.extdataBase || SCRIPT_ORIGIN).replace(/\/+$/, "");
    this.token = input.dataset.extdataToken || "";
    this.contextKeys = (input.dataset.extdataContext || "").split(",").map((s) => s.trim()).filter(Boolean);
    this.value = "";
    this.label = "";
    this.data = null;
    this.options = [];
    this.active = -1;
    this.abort = null;
    this.timer = null;
    // The option chosen last (Escape restores it) and the number of the current query:
    // an answer for any other query, or one arriving after focus left, is dropped.
    this.lastChosen = null;
    this.generation = 0;
    this.build();
  }

  build() {
    const input = this.input;
    const id = input.id || `extdata-${this.field}-${++seq}`;
    input.id = id;
    const wrap = el("div", { className: "extdata-combo" });
    input.before(wrap);
    this.hidden = el("input", { type: "hidden", name: input.name || this.field, value: input.value || "" });
    input.removeAttribute("name");
    this.listbox = el("ul", { id: `${id}-listbox`, hidden: true }, { role: "listbox" });
    const labelEl = input.labels && input.labels[0];
    if (labelEl) {
      if (!labelEl.id) labelEl.id = `${id}-label`;
      this.listbox.setAttribute("aria-labelledby", labelEl.id);
    } else {
      this.listbox.setAttribute("aria-label", input.getAttribute("aria-label") || this.field);
    }
    this.status = el("div", { className: "extdata-status", id: `${id}-status` }, { role: "status", "aria-live": "polite" });
    this.toggle = el("button", { type: "button", className: "extdata-toggle", tabIndex: -1, textContent: "▾" }, { "aria-label": "Show options", "aria-controls": this.listbox.id, "aria-expanded": "false" });
    wrap.append(input, this.toggle, this.listbox, this.status, this.hidden);
    this.wrap = wrap;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", this.listbox.id);
    input.setAttribute("aria-describedby", [input.getAttribute("aria-describedby"), this.status.id].filter(Boolean).join(" "));
    input.setAttribute("autocomplete", "off");
    input.setAttribute("spellcheck", "false");
    input.value = "";
    input._extdata = this;

    input.addEventListener("input", () => {
      this.clearChoiceIfEdited();
      this.updateValidity(false);
      this.schedule();
    });
    input.addEventListener("keydown", (ev) => this.onKey(ev));
    input.addEventListener("blur", () => setTimeout(() => this.onBlur(), 0));
    this.toggle.addEventListener("click", () => {
      if (this.isOpen()) this.close();
      else {
        input.focus();
        this.load(true);
      }
    });
    // Pointer selection without stealing focus from the input.
    this.listbox.addEventListener("mousedown", (ev) => ev.preventDefault());
    this.listbox.addEventListener("click", (ev) => {
      const li = ev.target.closest("[role=option]");
      if (li) this.choose(Number(li.dataset.index));
    });
    // A change in a context input invalidates this choice (Country → City).
    for (const key of this.contextKeys) {
      const control = findControl(input, key);
      if (control) control.addEventListener("change", () => this.onContextChange());
    }
    // A form is never submitted with text that was typed but not chosen.
    const form = input.closest("form");
    if (form) {
      form.addEventListener(
        "submit",
        (ev) => {
          if (!this.unchosenText()) return;
          ev.preventDefault();
          ev.stopImmediatePropagation();
          this.cancelQuery();
          this.close();
          this.updateValidity(true);
          this.input.focus();
        },
        true
      );
    }
    this.updateDisabled();
    if (this.hidden.value) this.resolveInitial(this.hidden.value);
  }

  // Text in the box that is not the chosen option's label.
  unchosenText() {
    const typed = this.input.value.trim();
    return typed && !(this.value && this.input.value === this.label) ? typed : "";
  }
  // Marks the box invalid while it holds unchosen text; `announce` also says so in the status.
  updateValidity(announce) {
    const typed = this.unchosenText();
    const message = typed ? `“${typed}” is not one of the options. Choose one from the list, or clear the box.` : "";
    this.input.setCustomValidity(message);
    if (typed) this.input.setAttribute("aria-invalid", "true");
    else this.input.removeAttribute("aria-invalid");
    if (announce && typed) this.setState("invalid", message, "error");
    else if (!typed && this.wrap.dataset.state === "invalid") this.setState("idle", "");
  }
  // Stops the pending and the running query: nothing may open the list afterwards.
  cancelQuery() {
    clearTimeout(this.timer);
    this.generation++;
    if (this.abort) this.abort.abort();
    this.abort = null;
    if (this.wrap.dataset.state === "loading") this.setState("idle", "");
  }
  hasFocus() {
    return document.activeElement === this.input;
  }

  context() {
    const ctx = {};
    for (const key of this.contextKeys) ctx[key] = valueOf(findControl(this.input, key));
    return ctx;
  }
  missingContext() {
    return Object.entries(this.context()).filter(([, v]) => !v).map(([k]) => k);
  }
  updateDisabled() {
    const missing = this.missingContext();
    if (missing.length) {
      this.input.setAttribute("aria-disabled", "true");
      this.input.placeholder = `Choose ${missing.join(" and ")} first`;
    } else {
      this.input.removeAttribute("aria-disabled");
      this.input.placeholder = this.input.dataset.extdataPlaceholder || "Type to search";
    }
  }
  onContextChange() {
    this.cancelQuery();
    this.setChoice(null);
    this.lastChosen = null;
    this.input.value = "";
    this.options = [];
    this.close();
    this.updateDisabled();
  }

  isOpen() {
    return !this.listbox.hidden;
  }
  open() {
    this.listbox.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
    this.toggle.setAttribute("aria-expanded", "true");
  }
  close() {
    this.listbox.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.toggle.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
    this.active = -1;
  }

  schedule(ms = DEBOUNCE_MS) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.load(true), ms);
  }

  clearChoiceIfEdited() {
    if (this.value && this.input.value !== this.label) this.setChoice(null);
  }

  url(params) {
    const u = new URL(`${this.base}/api/v1/fields/${encodeURIComponent(this.field)}/options`);
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
    for (const [k, v] of Object.entries(this.context())) u.searchParams.set(`ctx.${k}`, v);
    return u;
  }

  setState(state, text, kind) {
    this.wrap.dataset.state = state;
    this.status.className = "extdata-status" + (kind ? ` extdata-${kind}` : "");
    this.status.textContent = text || "";
    this.input.setAttribute("aria-busy", state === "loading" ? "true" : "false");
  }

  async load(openList) {
    const missing = this.missingContext();
    if (missing.length) {
      this.setState("blocked", `Choose ${missing.join(" and ")} first.`);
      return;
    }
    if (this.abort) this.abort.abort();
    const abort = (this.abort = new AbortController());
    const generation = ++this.generation;
    const current = () => !abort.signal.aborted && generation === this.generation;
    const q = this.value ? "" : this.input.value.trim();
    this.setState("loading", "Loading…");
    try {
      const answer = await fetchJson(this.url({ q, limit: PAGE }), this.token, abort.signal);
      if (!current()) return false;
      this.options = answer.options || [];
      this.render(answer, q);
      if (openList && this.hasFocus()) this.open();
    } catch (err) {
      if (err.name === "AbortError" || !current()) return false;
      this.options = [];
      this.renderNote(`Could not load options: ${err.message}`, true);
      this.setState("error", `Could not load options: ${err.message}`, "error");
      if (openList && this.hasFocus()) this.open();
    }
    return this.isOpen();
  }

  renderNote(text, isError) {
    this.listbox.replaceChildren(el("li", { className: "extdata-note" + (isError ? " extdata-error" : ""), textContent: text }, { role: "presentation" }));
    this.active = -1;
    this.input.removeAttribute("aria-activedescendant");
  }

  render(answer, q) {
    const total = answer.total ?? this.options.length;
    if (!this.options.length) {
      this.renderNote(q ? `No matches for “${q}”.` : "No options.");
    } else {
      this.listbox.replaceChildren(
        ...this.options.map((o, i) => {
          const li = el("li", { id: `${this.input.id}-opt-${i}` }, { role: "option", "aria-selected": "false", "data-index": String(i), "data-value": String(o.value) });
          li.textContent = o.label;
          if (String(o.value) === this.value) li.setAttribute("aria-checked", "true");
          return li;
        })
      );
      this.active = -1;
    }
    let text = !this.options.length ? (q ? `No matches for “${q}”.` : "No options.") : `${total} ${total === 1 ? "option" : "options"}${total > this.options.length ? `, first ${this.options.length} shown` : ""}. Use the up and down arrows to choose.`;
    if (answer.stale) {
      const at = answer.fetched_at ? ` from ${new Date(answer.fetched_at).toLocaleString()}` : "";
      this.setState("stale", `${text} The source is unreachable; showing saved data${at}.`, "stale");
    } else {
      this.setState(this.options.length ? "ready" : "empty", text);
    }
  }

  move(delta) {
    if (!this.options.length) return;
    let next = this.active + delta;
    if (next < 0) next = this.options.length - 1;
    if (next >= this.options.length) next = 0;
    this.highlight(next);
  }
  highlight(i) {
    const items = this.listbox.querySelectorAll("[role=option]");
    items.forEach((li, j) => li.setAttribute("aria-selected", j === i ? "true" : "false"));
    this.active = i;
    const li = items[i];
    if (li) {
      this.input.setAttribute("aria-activedescendant", li.id);
      li.scrollIntoView({ block: "nearest" });
    }
  }

  onKey(ev) {
    if (this.input.readOnly) return;
    switch (ev.key) {
      case "ArrowDown":
        ev.preventDefault();
        if (!this.isOpen()) {
          this.load(true).then((open) => open && !ev.altKey && this.options.length && this.highlight(0));
        } else this.move(1);
        break;
      case "ArrowUp":
        ev.preventDefault();
        if (!this.isOpen()) this.load(true).then((open) => open && this.options.length && this.highlight(this.options.length - 1));
        else this.move(-1);
        break;
      case "Home":
      case "End":
        if (this.isOpen() && this.active >= 0) {
          ev.preventDefault();
          this.highlight(ev.key === "Home" ? 0 : this.options.length - 1);
        }
        break;
      case "Enter":
        // Like a native select: Enter chooses the highlighted option, or does nothing (also
        // while options load). Only a box showing its choice, or empty, lets Enter submit.
        if (this.isOpen() || this.unchosenText() || this.wrap.dataset.state === "loading") {
          ev.preventDefault();
          if (this.isOpen() && this.active >= 0 && this.wrap.dataset.state !== "loading") this.choose(this.active);
        }
        break;
      case "Escape":
        if (this.isOpen() || this.unchosenText() || this.wrap.dataset.state === "loading") {
          ev.preventDefault();
          this.cancelQuery();
          this.close();
          this.restore();
        } else if (this.input.value) {
          ev.preventDefault();
          this.input.value = "";
          this.setChoice(null);
          this.lastChosen = null;
          this.setState("idle", "");
        }
        break;
      case "Tab":
        this.close();
        break;
      default:
    }
  }

  onBlur() {
    if (this.hasFocus()) return;
    // No answer arriving later may reopen the list over the control that has focus now.
    this.cancelQuery();
    this.close();
    if (!this.input.value.trim()) {
      this.input.value = "";
      this.setChoice(null);
    }
    this.updateValidity(true);
  }

  // Back to the option chosen last (or empty when there was none).
  restore() {
    const o = this.lastChosen;
    this.setChoice(o);
    this.input.value = o ? o.label : "";
    this.updateValidity(false);
    this.setState("idle", o ? `${o.label} chosen.` : "");
  }

  choose(i) {
    const o = this.options[i];
    if (!o) return;
    this.setChoice(o);
    this.input.value = o.label;
    this.cancelQuery();
    this.close();
    this.updateValidity(false);
    this.setState("chosen", `${o.label} chosen.`);
  }

  setChoice(o) {
    if (o) this.lastChosen = o;
    const before = this.value;
    this.value = o ? String(o.value) : "";
    this.label = o ? o.label : "";
    this.data = o ? o.data : null;
    this.hidden.value = this.value;
    if (before !== this.value) {
      this.input.dispatchEvent(new CustomEvent("extdata-change", { bubbles: true, detail: { value: this.value, label: this.label, data: this.data } }));
      this.input.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }

  async resolveInitial(key) {
    try {
      const u = new URL(`${this.base}/api/v1/fields/${encodeURIComponent(this.field)}/value`);
      u.searchParams.set("key", key);
      for (const [k, v] of Object.entries(this.context())) u.searchParams.set(`ctx.${k}`, v);
      const answer = await fetchJson(u, this.token);
      if (answer.found) {
        this.value = String(answer.value);
        this.label = answer.label;
        this.input.value = answer.label;
        this.lastChosen = { value: answer.value, label: answer.label, data: answer.data };
      }
    } catch (err) {
      this.setState("error", `Could not load the saved choice: ${err.message}`, "error");
    }
  }
}

// A read-only text field filled from another field's choice: Account manager ← Customer.
class DerivedText {
  constructor(input) {
    this.input = input;
    this.field = input.dataset.extdataField;
    this.sourceKey = input.dataset.extdataValueOf;
    this.base = (input.dataset.extdataBase || SCRIPT_ORIGIN).replace(/\/+$/, "");
    this.token = input.dataset.extdataToken || "";
    this.value = "";
    input.readOnly = true;
    input._extdata = this;
    this.status = el("div", { className: "extdata-status", id: `${input.id || this.field}-status` }, { role: "status", "aria-live": "polite" });
    const wrap = el("div", { className: "extdata-combo" });
    input.before(wrap);
    wrap.append(input, this.status);
    input.setAttribute("aria-describedby", [input.getAttribute("aria-describedby"), this.status.id].filter(Boolean).join(" "));
    this.wrap = wrap;
    const control = findControl(input, this.sourceKey);
    if (control) control.addEventListener("change", () => this.fill(valueOf(control)));
  }
  async fill(key) {
    this.input.value = "";
    this.value = "";
    if (!key) {
      this.status.textContent = "";
      return;
    }
    this.wrap.dataset.state = "loading";
    this.status.className = "extdata-status";
    this.status.textContent = "Loading…";
    const u = new URL(`${this.base}/api/v1/fields/${encodeURIComponent(this.field)}/value`);
    u.searchParams.set("key", key);
    try {
      const answer = await fetchJson(u, this.token);
      this.wrap.dataset.state = answer.stale ? "stale" : "ready";
      if (!answer.found) {
        this.status.textContent = "No value for this choice.";
        return;
      }
      this.value = String(answer.value ?? "");
      this.input.value = answer.label ?? "";
      this.status.textContent = answer.stale ? "The source is unreachable; showing saved data." : "";
      if (answer.stale) this.status.className = "extdata-status extdata-stale";
      this.input.dispatchEvent(new Event("change", { bubbles: true }));
    } catch (err) {
      this.wrap.dataset.state = "error";
      this.status.className = "extdata-status extdata-error";
      this.status.textContent = `Could not load: ${err.message}`;
    }
  }
}

export function enhance(root = document) {
  injectStyle();
  const out = [];
  for (const input of root.querySelectorAll("input[data-extdata-field]")) {
    if (input._extdata) continue;
    out.push(input.dataset.extdataValueOf ? new DerivedText(input) : new Combobox(input));
  }
  return out;
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => enhance());
else enhance();
