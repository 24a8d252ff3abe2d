// New source wizard (and editor). Presets: SharePoint list (Microsoft Graph), a guided flow,
// then every source kind the server declares (GET /api/v1/kinds), each a form rendered from
// its settings (kind_form.js), so a new kind needs no JavaScript. The SharePoint preset follows the setup flow: app registration →
// Authenticate → site → list → columns → Save and test. Every step before saving goes
// through the /api/v1/draft/* endpoints with the spec as typed; the secret travels
// browser → server only and the server never sends it back.
import { get, post, enc, getVersioned, create, replace } from "./api.js";
import { h, add, clear, errorBox, warningBox, field, uid, recordTable, capitalize, pick, inFormTerms } from "./dom.js";
import { kindForm } from "./kind_form.js";
import { conflictNotice } from "./conflict.js";
import { connectionCell, connectSource } from "./sources.js";

const DEFAULT_AUTHORITY = "https://login.microsoftonline.com";
const DEFAULT_GRAPH = "https://graph.microsoft.com/v1.0";
const NAME_RE = /^[A-Za-z0-9_-]+$/;

function input(attrs) {
  return h("input", { type: "text", spellcheck: "false", autocomplete: "off", ...attrs });
}

function originOf(url) {
  try {
    return new URL(url).origin;
  } catch {
    return "";
  }
}
function pathOf(url) {
  try {
    const p = new URL(url).pathname;
    return p === "/" ? "" : p.replace(/\/$/, "");
  } catch {
    return "";
  }
}
const trimSlash = (s) => s.trim().replace(/\/+$/, "");
function hostOf(url) {
  try {
    return new URL(url).hostname;
  } catch {
    return "";
  }
}

// The scope extdata asks for, as the server derives it from `graph`: a Microsoft Graph
// host (global or national cloud) has its own scope; any other host (graphsim, a
// gateway) takes Graph's tokens.
const GRAPH_HOSTS = new Set(["graph.microsoft.com", "graph.microsoft.us", "dod-graph.microsoft.us", "microsoftgraph.chinacloudapi.cn"]);
function derivedScope(graph) {
  return GRAPH_HOSTS.has(hostOf(graph)) ? `${originOf(graph)}/.default` : "https://graph.microsoft.com/.default";
}

function busy(button, text) {
  const old = button.textContent;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  button.textContent = text;
  return () => {
    button.disabled = false;
    button.removeAttribute("aria-busy");
    button.textContent = old;
  };
}

// -------------------------------------------------------------- results

function secondsPhrase(s) {
  if (s === undefined || s === null) return "unknown";
  if (s < 120) return `${s} seconds`;
  if (s < 7200) return `${Math.round(s / 60)} minutes`;
  return `${Math.round(s / 3600)} hours`;
}

export function authResult(answer) {
  if (!answer.ok) return errorBox(answer.error || answer, "Authentication failed");
  const c = answer.claims || {};
  const roles = Array.isArray(c.roles) ? c.roles : [];
  const rows = [
    ["Token type", answer.token_type || "—"],
    ["Expires in", secondsPhrase(answer.expires_in)],
    ["Roles", roles.length ? roles.join(", ") : "none"],
  ];
  if (c.scp) rows.push(["Scopes (delegated)", c.scp]);
  if (c.aud) rows.push(["Audience", Array.isArray(c.aud) ? c.aud.join(", ") : c.aud]);
  if (c.tid) rows.push(["Tenant ID", c.tid]);
  if (c.appid || c.azp) rows.push(["Application ID", c.appid || c.azp]);
  if (c.exp) rows.push(["Token expiry", new Date(c.exp * 1000).toISOString()]);
  return h(
    "div.auth-result",
    {},
    h("div.notice.ok", { role: "status" }, h("strong", {}, "Authenticated"), h("dl.kv", {}, rows.map(([k, v]) => [h("dt", {}, k), h("dd", { "data-claim": k }, v)]))),
    warningBox(answer.warnings, "Warnings — the token works, but:")
  );
}

// "0.89 ms", "10 ms", "1.2 s": times as people read them.
export function formatMs(ms) {
  if (typeof ms !== "number" || !isFinite(ms)) return "";
  if (ms >= 1000) return `${(ms / 1000).toFixed(ms >= 10000 ? 0 : 1)} s`;
  if (ms >= 10) return `${Math.round(ms)} ms`;
  return `${ms.toFixed(ms >= 1 ? 1 : 2)} ms`;
}

// Graph item metadata, shown after the list's own columns (or not at all when space runs out).
const GRAPH_METADATA = new Set(["@odata.etag", "eTag", "createdBy", "lastModifiedBy", "parentReference", "contentType", "webUrl", "createdDateTime", "lastModifiedDateTime"]);

function previewColumns(result) {
  const sample = result.sample || [];
  const first = sample[0] || {};
  let names = (result.columns || []).map((c) => (typeof c === "string" ? c : c.name || c.display_name)).filter(Boolean);
  if (!names.length) names = Object.keys(first);
  // The list's own columns first (id, then each of `fields`), Graph's item metadata last.
  const own = [];
  const metadata = [];
  for (const k of names) {
    if (k === "fields" && first.fields && typeof first.fields === "object") own.push(...Object.keys(first.fields).filter((f) => !f.startsWith("@odata.")).map((f) => "fields." + f));
    else if (GRAPH_METADATA.has(k)) metadata.push(k);
    else if (k === "id") own.unshift(k);
    else own.push(k);
  }
  names = [...own, ...metadata];
  return names.slice(0, 12).map((n) => ({
    label: n,
    get: (r) => {
      const direct = pick(r, n);
      if (direct !== undefined) return direct;
      return r && r.fields ? r.fields[n] : undefined;
    },
  }));
}

export function testResult(result) {
  const steps = result.steps || [];
  // Steps without an HTTP status (a database's connect and query) went well unless they are
  // the last step of a failed test; they say what happened ("new connection", "3 rows").
  const failedAt = result.ok ? -1 : steps.length - 1;
  const statusOf = (s, i) => s.status || (i === failedAt ? (result.error && result.error.code) || "no answer" : s.response_preview || "done");
  const out = h("div.test-result", { "data-ok": String(!!result.ok) });
  add(out, 
    result.ok
      ? h("div.notice.ok", { role: "status" }, h("strong", {}, "Test passed"), h("p", {}, `${result.records ?? 0} records in ${result.pages ?? 1} page${result.pages === 1 ? "" : "s"}.`))
      : errorBox(result.error || { message: "the test failed" }, "Test failed")
  );
  add(out, warningBox(result.warnings));
  if (steps.length) {
    add(out, 
      h("h3", {}, "Steps"),
      h("div.steps", {}, recordTable(
        [
          { label: "Step", get: (s) => s.step },
          { label: "Request", get: (s) => `${s.method || "GET"} ${s.url || ""}` },
          { label: "Status", get: (s) => statusOf(s, steps.indexOf(s)) },
          { label: "Time", get: (s) => formatMs(s.elapsed_ms) },
          { label: "Attempts", get: (s) => s.attempts },
        ],
        steps
      ))
    );
    out.querySelectorAll("table.records tbody tr").forEach((tr, i) => {
      const st = steps[i].status;
      tr.classList.add((st ? st >= 200 && st < 300 : i !== failedAt) ? "good" : "bad");
    });
  }
  const sample = result.sample || [];
  if (sample.length) add(out, h("h3", {}, "Record preview"), h("div.record-preview", {}, recordTable(previewColumns(result), sample, `First ${sample.length} records`)));
  if (steps.some((s) => s.response_preview !== undefined)) {
    add(out, 
      h(
        "details.raw",
        {},
        h("summary", {}, "Raw responses"),
        steps.map((s) =>
          h(
            "div",
            {},
            h("h4", {}, `${s.step || "request"} — ${s.status ? "HTTP " + s.status : s.method || "no answer"}`),
            h("pre", { tabindex: "0" }, typeof s.response_preview === "string" ? prettyMaybe(s.response_preview) : JSON.stringify(s.response_preview, null, 2))
          )
        )
      )
    );
  }
  return out;
}

function prettyMaybe(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

// -------------------------------------------------------------- SharePoint preset

function sharepointForm(ctx) {
  const ex = ctx.existing || {};
  const authority = input({ name: "authority", value: ex.authority || DEFAULT_AUTHORITY, type: "url" });
  const graph = input({ name: "graph", value: ex.graph || DEFAULT_GRAPH, type: "url" });
  const tenant = input({ name: "tenant", value: ex.tenant || "", placeholder: "contoso.onmicrosoft.com or directory GUID", required: true });
  const clientId = input({ name: "client_id", value: ex.client_id || "", placeholder: "00000000-0000-0000-0000-000000000000", required: true });
  const storedSecret = ex.client_secret && typeof ex.client_secret === "object" && ex.client_secret.set;
  const secret = input({
    type: "password",
    name: "client_secret",
    autocomplete: "new-password",
    placeholder: storedSecret ? "stored — type a new value to replace it" : "the secret's Value (not its Secret ID)",
  });
  const expires = input({ type: "date", name: "client_secret_expires", value: ex.client_secret_expires || "" });
  const tokenUrl = input({ name: "token_url", type: "url" });
  const scope = input({ name: "scope" });
  const tokenUrlError = h("small.inline-error", { "aria-live": "polite" });
  const scopeError = h("small.inline-error", { "aria-live": "polite" });

  const syncDerived = () => {
    tokenUrl.value = `${trimSlash(authority.value)}/${tenant.value.trim() || "{tenant}"}/oauth2/v2.0/token`;
    scope.value = derivedScope(graph.value.trim());
    tokenUrlError.textContent = scopeError.textContent = "";
  };
  syncDerived();
  [authority, graph, tenant].forEach((el) => el.addEventListener("input", syncDerived));
  // The token URL and scope are shown as Entra ID names them; edits map back to
  // authority/tenant and graph, which is what the source spec stores.
  tokenUrl.addEventListener("input", () => {
    const m = tokenUrl.value.trim().match(/^(https?:\/\/.+?)\/([^/]+)\/oauth2\/v2\.0\/token$/);
    if (!m) {
      tokenUrlError.textContent = "The token URL must look like https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token";
      return;
    }
    tokenUrlError.textContent = "";
    authority.value = m[1];
    if (m[2] !== "{tenant}") tenant.value = m[2];
  });
  scope.addEventListener("input", () => {
    const m = scope.value.trim().match(/^(https?:\/\/[^/]+)\/\.default$/);
    if (!m) {
      scopeError.textContent = "The scope must be the Graph origin followed by /.default, e.g. https://graph.microsoft.com/.default";
      return;
    }
    const host = hostOf(m[1]);
    if (!GRAPH_HOSTS.has(host)) {
      scopeError.textContent = "SharePoint sources ask for Microsoft Graph's scope (or a national cloud's); for another Graph host change the Graph base URL under Advanced.";
      return;
    }
    scopeError.textContent = "";
    // Simulators and gateways take Graph's own tokens: their base URL stays as it is.
    if (GRAPH_HOSTS.has(hostOf(graph.value.trim())) || host !== "graph.microsoft.com") graph.value = m[1] + (pathOf(graph.value) || "/v1.0");
  });

  const site = input({ name: "site", type: "url", value: ex.site || "", placeholder: "https://contoso.sharepoint.com/sites/Sales" });
  const listSelect = h("select", { name: "list", disabled: !ex.list }, ex.list ? h("option", { value: ex.list }, ex.list) : h("option", { value: "" }, "Find the site's lists first"));
  // After a failed lookup the previous site's lists must not stay choosable.
  const forgetLists = () => {
    add(clear(listSelect), h("option", { value: "" }, "Find the site's lists first"));
    listSelect.disabled = true;
    clear(columnsOut);
    columnsBox.hidden = true;
  };
  const columnsBox = h("fieldset.columns", { hidden: true }, h("legend", {}, "Columns to fetch (none ticked = all)"));
  const selected = new Set(Array.isArray(ex.select) ? ex.select : ex.select ? String(ex.select).split(",").map((s) => s.trim()) : []);

  const spec = (withList = true) => {
    const s = { ...ctx.base(), type: "sharepoint-list" };
    s.tenant = tenant.value.trim();
    s.client_id = clientId.value.trim();
    if (secret.value) s.client_secret = secret.value;
    else if (storedSecret) s.client_secret = { set: true };
    else delete s.client_secret;
    if (expires.value) s.client_secret_expires = expires.value;
    else delete s.client_secret_expires;
    if (site.value.trim()) s.site = site.value.trim();
    if (withList && listSelect.value) s.list = listSelect.value;
    else if (!withList) delete s.list;
    const cols = [...columnsBox.querySelectorAll("input[type=checkbox]:checked")].map((c) => c.value);
    if (cols.length) s.select = cols;
    else if (!columnsBox.hidden) delete s.select;
    const a = trimSlash(authority.value);
    const g = trimSlash(graph.value);
    if (a && a !== DEFAULT_AUTHORITY) s.authority = a;
    else delete s.authority;
    if (g && g !== DEFAULT_GRAPH) s.graph = g;
    else delete s.graph;
    return s;
  };

  // Step 1: authenticate
  const authOut = h("div.result", { "aria-live": "polite", id: "auth-result" });
  const authBtn = h("button.primary", { type: "button", id: "authenticate" }, "Authenticate");
  authBtn.addEventListener("click", async () => {
    const done = busy(authBtn, "Authenticating…");
    clear(authOut);
    try {
      add(authOut, authResult(await post("/api/v1/draft/authenticate", { source: spec(true), variables: {} })));
    } catch (err) {
      add(authOut, errorBox(inFormTerms(err, form), "Authentication failed"));
    } finally {
      done();
    }
  });

  // Step 2: site → lists → columns
  const listsOut = h("div.result", { "aria-live": "polite" });
  const columnsOut = h("div.result", { "aria-live": "polite" });
  const findBtn = h("button", { type: "button", id: "find-lists" }, "Find lists");
  findBtn.addEventListener("click", async () => {
    const done = busy(findBtn, "Looking up the site…");
    clear(listsOut);
    try {
      const answer = await post("/api/v1/draft/sharepoint/lists", { source: spec(false), variables: {} });
      const lists = (answer.lists || []).filter((l) => !l.hidden);
      add(clear(listSelect), h("option", { value: "" }, `Choose one of ${lists.length} lists`), ...lists.map((l) => h("option", { value: l.title, "data-id": l.id }, l.title + (l.template && l.template !== "genericList" ? ` (${l.template})` : ""))));
      listSelect.disabled = false;
      add(listsOut, h("p.muted", {}, `${lists.length} lists found on the site.`));
      listSelect.focus();
    } catch (err) {
      forgetLists();
      add(listsOut, errorBox(inFormTerms(err, form), "Could not read the site's lists"));
    } finally {
      done();
    }
  });
  const loadColumns = async () => {
    clear(columnsOut);
    columnsBox.hidden = true;
    if (!listSelect.value) return;
    add(columnsOut, h("p.muted", {}, "Loading columns…"));
    try {
      const answer = await post("/api/v1/draft/sharepoint/columns", { source: spec(true), variables: {} });
      clear(columnsOut);
      add(clear(columnsBox), h("legend", {}, "Columns to fetch (none ticked = all)"));
      for (const c of answer.columns || []) {
        const id = uid("col");
        add(columnsBox, 
          h(
            "div.check",
            {},
            h("input", { type: "checkbox", id, value: c.name, checked: selected.has(c.name) }),
            h("label", { for: id }, c.display_name || c.name, " ", h("code", {}, c.name), h("span.muted", {}, ` ${c.type || ""}${c.indexed ? " · indexed" : ""}`))
          )
        );
      }
      columnsBox.hidden = false;
    } catch (err) {
      add(clear(columnsOut), errorBox(err, "Could not read the list's columns"));
    }
  };
  listSelect.addEventListener("change", loadColumns);

  const tokenUrlField = field("Token URL", tokenUrl, "OAuth 2.0 token endpoint (v2) — Entra ID: App registrations → Endpoints");
  add(tokenUrlField, tokenUrlError);
  const scopeField = field("Scope", scope, "Application permissions of Microsoft Graph");
  add(scopeField, scopeError);

  const form = h(
    "div.preset",
    {},
    h(
      "fieldset.step",
      {},
      h("legend", {}, h("span.step-no", {}, "1"), " App registration"),
      h("p.muted", {}, "From Entra ID → App registrations: an app with the Microsoft Graph application permission Sites.Read.All and admin consent."),
      field("Tenant", tenant, "Directory (tenant) ID or primary domain"),
      field("Client ID", clientId, "Application (client) ID"),
      field("Client secret", secret, storedSecret ? "A secret is stored. It is never shown again; leave empty to keep it." : "Certificates & secrets → the secret's Value. It is sent to the server and never shown again."),
      field("Secret expires", expires, "Optional: you are warned 30 days before"),
      tokenUrlField,
      scopeField,
      h("details.advanced", {}, h("summary", {}, "Advanced: national clouds and simulators"), field("Authority", authority, "Identity platform host"), field("Graph base URL", graph, "Microsoft Graph endpoint with version")),
      h("div.buttons", {}, authBtn),
      authOut
    ),
    h(
      "fieldset.step",
      {},
      h("legend", {}, h("span.step-no", {}, "2"), " Site and list"),
      field("Site URL", site, "As copied from the browser's address bar"),
      h("div.buttons", {}, findBtn),
      listsOut,
      field("List", listSelect),
      columnsOut,
      columnsBox
    )
  );
  if (ex.list && ex.site) queueMicrotask(loadColumns);
  return { form, spec: () => spec(true), firstInput: tenant };
}

// -------------------------------------------------------------- sql explorer

// The explorer of an sql source's form: its tables (POST /api/v1/draft/sql/tables with the connection as
// typed), a chosen table's columns, and the query written from the ticked ones. The server
// quotes the names in the source's dialect ("sql" of each column, "from" of the table).
function sqlExplorer(f) {
  const queryInput = f.form.querySelector('[data-key="query"] input, [data-key="query"] textarea');
  const tablesOut = h("div.result", { "aria-live": "polite", id: "sql-tables-result" });
  const columnsOut = h("div.result", { "aria-live": "polite", id: "sql-columns-result" });
  const tableSelect = h("select", { name: "sql-table", id: "sql-table", disabled: true }, h("option", { value: "" }, "Find the tables first"));
  const columnsBox = h("fieldset.columns", { hidden: true });
  const preview = h("code.sql-query", { id: "sql-query-preview" });
  const useBtn = h("button", { type: "button", id: "use-query" }, "Use this query");
  const queryBox = h("div.sql-query-box", { hidden: true }, h("p.muted", {}, "Query from your choice (none ticked = every column):"), h("pre", {}, preview), h("div.buttons", {}, useBtn));
  let table = null;

  const written = () => {
    if (!table) return "";
    const ticked = [...columnsBox.querySelectorAll("input[type=checkbox]:checked")].map((c) => c.dataset.sql);
    return ticked.length ? `SELECT ${ticked.join(", ")} FROM ${table.from}` : table.query;
  };
  const forgetColumns = () => {
    table = null;
    clear(columnsOut);
    clear(columnsBox);
    columnsBox.hidden = queryBox.hidden = true;
  };
  const findBtn = h("button", { type: "button", id: "find-tables" }, "Find tables");
  findBtn.addEventListener("click", async () => {
    const done = busy(findBtn, "Connecting…");
    clear(tablesOut);
    forgetColumns();
    try {
      const answer = await post("/api/v1/draft/sql/tables", { source: f.spec(), variables: {} });
      const tables = answer.tables || [];
      const full = (t) => (t.schema ? `${t.schema}.${t.name}` : t.name);
      add(clear(tableSelect), h("option", { value: "" }, `Choose one of ${tables.length} tables`), ...tables.map((t) => h("option", { value: full(t) }, full(t) + (t.type && !/table/i.test(t.type) ? ` (${t.type.toLowerCase()})` : ""))));
      tableSelect.disabled = false;
      add(tablesOut, h("p.muted", {}, `${tables.length} tables and views the user can read.`));
      tableSelect.focus();
    } catch (err) {
      add(clear(tableSelect), h("option", { value: "" }, "Find the tables first"));
      tableSelect.disabled = true;
      add(tablesOut, errorBox(inFormTerms(err, f.form), "Could not list the tables"));
    } finally {
      done();
    }
  });
  tableSelect.addEventListener("change", async () => {
    forgetColumns();
    if (!tableSelect.value) return;
    add(columnsOut, h("p.muted", {}, "Loading columns…"));
    try {
      table = await post("/api/v1/draft/sql/columns", { source: f.spec(), variables: {}, table: tableSelect.value });
      clear(columnsOut);
      add(columnsBox, h("legend", {}, `Columns of ${table.table}`));
      for (const c of table.columns || []) {
        const id = uid("col");
        const box = h("input", { type: "checkbox", id, value: c.name });
        box.dataset.sql = c.sql;
        box.addEventListener("change", () => (preview.textContent = written()));
        const nullable = c.nullable === true || c.nullable === 1 ? " · nullable" : "";
        add(columnsBox, h("div.check", {}, box, h("label", { for: id }, h("code", {}, c.name), h("span.muted", {}, ` ${c.type || ""}${nullable}`))));
      }
      preview.textContent = written();
      columnsBox.hidden = queryBox.hidden = false;
    } catch (err) {
      add(clear(columnsOut), errorBox(err, "Could not read the table's columns"));
    }
  });
  useBtn.addEventListener("click", () => {
    if (!queryInput) return;
    queryInput.value = written();
    queryInput.dispatchEvent(new Event("input", { bubbles: true }));
    queryInput.focus();
  });
  return h(
    "fieldset.nested.sql-explorer",
    {},
    h("legend", {}, "Tables and columns"),
    h("p.muted", {}, "Connects with the settings above and lists what the database user can read; “Use this query” writes the query below."),
    h("div.buttons", {}, findBtn),
    tablesOut,
    field("Table", tableSelect),
    columnsOut,
    columnsBox,
    queryBox
  );
}

// -------------------------------------------------------------- any other kind

// The form of a kind from the kinds document, with an Authenticate button when the kind
// has an `auth` setting, and the database explorer for sql sources.
function genericForm(ctx, kind, doc) {
  const f = kindForm(ctx, kind, doc);
  // The explorer stands just above the query it writes.
  if (kind.type === "sql") {
    const query = f.form.querySelector('[data-key="query"]');
    query.parentNode.insertBefore(sqlExplorer(f), query);
  }
  if (!f.authenticates) return f;
  const authOut = h("div.result", { "aria-live": "polite" });
  const authBtn = h("button", { type: "button", id: "authenticate" }, "Authenticate");
  authBtn.addEventListener("click", async () => {
    const done = busy(authBtn, "Authenticating…");
    clear(authOut);
    try {
      add(authOut, authResult(await post("/api/v1/draft/authenticate", { source: f.spec(), variables: {} })));
    } catch (err) {
      add(authOut, errorBox(inFormTerms(err, f.form), "Authentication failed"));
    } finally {
      done();
    }
  });
  add(f.form.querySelector("fieldset.step"), h("div.buttons", {}, authBtn), authOut);
  if (ctx.connection && ctx.existing) add(f.form.querySelector("fieldset.step"), connectBox(ctx));
  return f;
}

// A saved source that acts on behalf of a user: who connected it, and Connect (authorization
// code) to sign in again in a new window.
function connectBox(ctx) {
  const box = h("div.connect", { "aria-live": "polite" });
  const status = h("div.row-status");
  const render = (c) => {
    const btn =
      c.grant === "authorization_code"
        ? h("button", { type: "button", id: "connect" }, c.state === "not_connected" ? "Connect" : "Reconnect")
        : null;
    if (btn)
      btn.addEventListener("click", async () => {
        btn.disabled = true;
        try {
          await connectSource({ name: ctx.name, connection: c }, status, async () => {
            const now = await get(`/api/v1/sources/${enc(ctx.name)}`);
            render(now.connection || c);
          });
        } catch (err) {
          add(clear(status), errorBox(err, "Connect failed"));
        } finally {
          btn.disabled = false;
        }
      });
    add(clear(box), h("h3", {}, "Connection"), connectionCell(c), h("div.buttons", {}, btn), status);
  };
  render(ctx.connection);
  return box;
}

// -------------------------------------------------------------- page

export async function wizardPage(editName) {
  let existing = null;
  let connection = null;
  // The version being edited: saves replace only it (If-Match); a new source is only created
  // when its name is free (If-None-Match: *).
  let etag = null;
  if (editName) {
    ({ json: existing, etag } = await getVersioned(`/api/v1/sources/${enc(editName)}`));
    delete existing.warnings;
    delete existing.status;
    connection = existing.connection || null; // shown, never sent back
    delete existing.connection;
  }
  const section = h("section.wizard", { "aria-labelledby": "wizard-title" });
  // "-" escaped: Chromium compiles `pattern` with the v flag, where a bare "-" is invalid.
  const name = input({ name: "name", value: existing ? existing.name || editName : "", required: true, pattern: "[A-Za-z0-9_\\-]+", disabled: !!existing });
  const ttl = input({ name: "cache_ttl", value: (existing && existing.cache_ttl) || "", placeholder: "5m" });
  const presetBox = h("div");
  // The presets: SharePoint's guided flow, then every other kind the server knows, each
  // rendered from its settings (GET /api/v1/kinds).
  const doc = await get("/api/v1/kinds");
  const kinds = (doc.sources || []).filter((k) => k.type !== "sharepoint-list");
  const presets = [];
  if ((doc.sources || []).some((k) => k.type === "sharepoint-list"))
    presets.push({ value: "sharepoint", label: "SharePoint list", desc: "A list on a SharePoint site, through Microsoft Graph (app registration in Entra ID)", make: (ctx) => sharepointForm(ctx) });
  for (const k of kinds) presets.push({ value: k.type, label: k.title, desc: k.description, make: (ctx) => genericForm(ctx, k, doc) });
  const presetOf = (type) => (type === "sharepoint-list" ? "sharepoint" : type);
  let preset = existing ? presetOf(existing.type) : presets[0].value;
  let current = null;

  const ctx = {
    existing,
    name: editName,
    connection,
    base: () => {
      const s = existing ? JSON.parse(JSON.stringify(existing)) : {};
      s.name = name.value.trim();
      if (ttl.value.trim()) s.cache_ttl = ttl.value.trim();
      else delete s.cache_ttl;
      return s;
    },
  };
  const showPreset = () => {
    ctx.existing = existing && presetOf(existing.type) === preset ? existing : null;
    const chosen = presets.find((p) => p.value === preset);
    if (!chosen) {
      add(clear(presetBox), errorBox({ message: `this server has no source kind '${existing ? existing.type : preset}'`, hint: "See extdata kinds for the kinds it knows." }, "Cannot edit this source"));
      current = null;
      return;
    }
    current = chosen.make(ctx);
    add(clear(presetBox), current.form);
  };

  const presetPicker = h(
    "fieldset.presets",
    { hidden: !!existing },
    h("legend", {}, "Preset"),
    presets.map(({ value, label, desc }) => {
      const id = uid("preset");
      const radio = h("input", { type: "radio", name: "preset", id, value, checked: value === preset });
      radio.addEventListener("change", () => {
        preset = value;
        showPreset();
      });
      return h("div.preset-choice", {}, radio, h("label", { for: id }, h("strong", {}, label), h("span.muted", {}, desc)));
    })
  );

  // Step 3: save and test
  const saveOut = h("div.result", { "aria-live": "polite", id: "save-result" });
  const saveBtn = h("button.primary", { type: "button", id: "save-and-test" }, "Save and test");
  saveBtn.addEventListener("click", async () => {
    clear(saveOut);
    const n = name.value.trim();
    if (!current) return;
    if (!NAME_RE.test(n)) {
      add(saveOut, errorBox({ message: "the source needs a name of letters, digits, - and _", hint: "Type a name such as sales-customers at the top of the page." }, "Cannot save"));
      name.focus();
      return;
    }
    const done = busy(saveBtn, "Saving…");
    try {
      const path = `/api/v1/sources/${enc(n)}`;
      const answer = existing ? await replace(path, current.spec(), etag) : await create(path, current.spec());
      const saved = answer.json;
      etag = answer.etag;
      const savedText = h("p", {}, `Source ${n} is saved. Testing it…`);
      add(saveOut, h("div.notice.ok", { role: "status" }, h("strong", {}, "Saved"), savedText));
      add(saveOut, warningBox(saved.warnings));
      saveBtn.textContent = "Testing…";
      const result = await post(`/api/v1/sources/${enc(n)}/test`, { variables: {} });
      savedText.textContent = `Source ${n} is saved.`;
      add(saveOut, testResult(result));
      add(saveOut, h("p", {}, h("a", { href: "#/sources" }, "Back to sources"), " · ", h("a", { href: `#/fields?source=${enc(n)}` }, "Create a field from this source")));
      if (!existing) {
        // Further saves update the source that now exists.
        existing = { ...current.spec(), ...saved };
        delete existing.warnings;
        name.disabled = true;
      }
    } catch (err) {
      const conflict = conflictNotice("source", n, err, {
        open: () => (location.hash = `#/sources/${enc(n)}/edit`),
        rename: () => {
          clear(saveOut);
          name.focus();
          name.select();
        },
        // Renders this page again from the stored source (the route of the same hash).
        reload: () => window.dispatchEvent(new HashChangeEvent("hashchange")),
      });
      add(saveOut, conflict || errorBox(inFormTerms(err, section), "Save and test failed"));
    } finally {
      done();
    }
  });

  add(section, 
    h("h1", { id: "wizard-title" }, existing ? `Edit source ${editName}` : "New source"),
    h("form.card", { onsubmit: (ev) => ev.preventDefault() }, presetPicker, field("Source name", name, "Letters, digits, - and _; fields refer to it"), field("Cache time", ttl, "How long fetched records stay fresh, e.g. 5m or 1h (default 5m)"), presetBox, h("fieldset.step", {}, h("legend", {}, h("span.step-no", {}, "3"), " Save and test"), h("div.buttons", {}, saveBtn), saveOut))
  );
  showPreset();
  return section;
}

export { capitalize };
