// Sources page: every source with its state at a glance.
import { get, post, del, enc } from "./api.js";
import { h, add, clear, errorBox, when, capitalize } from "./dom.js";

// "5m", "1h30m", "300", 300 → seconds (the config's duration syntax).
export function durationSeconds(v, fallback) {
  if (typeof v === "number") return v;
  if (typeof v !== "string" || !v) return fallback;
  let total = 0;
  const re = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?/g;
  let m;
  let any = false;
  while ((m = re.exec(v))) {
    any = true;
    const n = parseFloat(m[1]);
    total += n * { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 }[m[2] || "s"];
  }
  return any ? total : fallback;
}

// Timestamps come as epoch seconds (0 = never) or ISO strings.
function toMillis(v) {
  if (typeof v === "number") return v > 1e12 ? v : v * 1000;
  return new Date(v).getTime();
}

function staleness(source) {
  const st = source.status || {};
  if (typeof st.stale === "boolean") return st.stale;
  if (!st.last_success_at) return null;
  const ttl = durationSeconds(source.cache_ttl, 300);
  return Date.now() - toMillis(st.last_success_at) > ttl * 1000;
}

function secretWarnings(source) {
  return (source.warnings || []).filter((w) => /expire/i.test(w));
}

function stateCell(source) {
  const st = source.status || {};
  const stale = staleness(source);
  const badges = [];
  if (st.last_error) badges.push(h("span.badge.bad", {}, "failing"));
  else if (stale === true) badges.push(h("span.badge.warn", {}, "stale"));
  else if (stale === false) badges.push(h("span.badge.ok", {}, "fresh"));
  else badges.push(h("span.badge", {}, "not fetched yet"));
  if (secretWarnings(source).length) badges.push(h("span.badge.warn", {}, "secret expiry"));
  const c = source.connection;
  if (c && c.state === "reconnect_needed") badges.push(h("span.badge.bad", { "data-connection": "reconnect_needed" }, "reconnect needed"));
  if (c && c.state === "not_connected") badges.push(h("span.badge.warn", { "data-connection": "not_connected" }, "not connected"));
  return badges;
}

// "SharePoint list Customers", "REST API": the kind's title from GET /api/v1/kinds.
function kindLabel(source, titles) {
  const title = titles[source.type] || source.type;
  return source.type === "sharepoint-list" && source.list ? `${title} ${source.list}` : title;
}

// Sources whose credential is a token from a token endpoint (the others have no expiry to show).
function usesTokens(source) {
  return source.type === "sharepoint-list" || (source.auth && source.auth.type === "oauth2");
}

// A target fed by this source (issue 20): its last sync, what it changed, and its error.
function targetLine(target) {
  const last = target.last_sync;
  if (!last) return h("div.target", {}, `Target ${target.name}: `, h("span.muted", {}, "not synced yet"));
  const c = last.counts || {};
  const changed = ["created", "updated", "enabled", "disabled", "deleted"].filter((k) => c[k]).map((k) => `${c[k]} ${k}`);
  const problems = (last.problems || []).length;
  if (last.error)
    return h(
      "div.target",
      { "data-target": target.name, "data-sync-ok": "false" },
      `Target ${target.name}: `,
      h("span.warn-text", {}, "sync failed "),
      when(last.finished_at),
      changed.length ? `, ${changed.join(", ")} before the error` : "",
      h("div.last-error", {}, h("p", {}, capitalize(last.error.message)), last.error.hint ? h("p.hint", {}, last.error.hint) : null)
    );
  return h(
    "div.target",
    { "data-target": target.name, "data-sync-ok": "true" },
    `Target ${target.name}: synced `,
    when(last.finished_at),
    `, ${changed.length ? changed.join(", ") : "no change"} (${c.unchanged || 0} unchanged)`,
    problems ? h("span.warn-text", {}, `, ${problems} option${problems === 1 ? "" : "s"} refused`) : null
  );
}

// A source acting on behalf of a user: who connected it, when, with which scopes, and the
// redirect URI to register with the provider.
export function connectionCell(c) {
  const rows = [];
  if (c.state === "not_connected") rows.push(h("div.muted", {}, "Not connected yet"));
  else
    rows.push(
      h("div.connection", { "data-connected-by": c.connected_by || "" }, "Connected as ", h("strong", {}, c.connected_by || "unknown user"), " ", when(c.connected_at)),
      c.scope ? h("div.muted", {}, "Scopes: ", h("span.scopes", {}, c.scope)) : null,
      c.token_expires_at ? h("div", {}, "Token: expires ", when(c.token_expires_at)) : null
    );
  if (c.state === "reconnect_needed") rows.push(h("p.warn-text", {}, "⚠ The provider no longer accepts the grant", c.reconnect_reason ? ` (${c.reconnect_reason})` : "", ": connect again. Fields serve their last records meanwhile."));
  if (c.redirect_uri) rows.push(h("div.muted", {}, "Redirect URI: ", h("code.redirect-uri", {}, c.redirect_uri)));
  if (c.grant === "device_code") rows.push(h("div.muted", {}, "Connect from a terminal: ", h("code", {}, "extdata auth connect …")));
  return rows;
}

// Opens the provider's sign-in in a new window, then watches the source until the callback has
// stored a new connection (or 15 minutes pass).
export async function connectSource(source, rowStatus, refreshPage) {
  const popup = window.open("about:blank", "_blank");
  const started = await post(`/api/v1/sources/${enc(source.name)}/connect`);
  if (popup) popup.location = started.authorize_url;
  else window.open(started.authorize_url, "_blank");
  const before = (source.connection || {}).connected_at || null;
  add(clear(rowStatus), h("span.muted", {}, "Waiting for the sign-in in the other window…"));
  const until = Date.now() + 15 * 60 * 1000;
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = await get(`/api/v1/sources/${enc(source.name)}`);
    const c = now.connection || {};
    if (c.state === "connected" && c.connected_at && c.connected_at !== before) return refreshPage();
  }
  add(clear(rowStatus), errorBox({ message: "the sign-in was not completed", hint: "Try Connect again." }, "Not connected"));
}

function row(source, refreshPage, titles, fieldsUsing) {
  const st = source.status || {};
  const actions = h("div.actions", {});
  const rowStatus = h("div.row-status", { "aria-live": "polite" });
  const act = (label, fn) =>
    h(
      "button.small",
      {
        type: "button",
        "aria-label": `${label} ${source.name}`,
        onclick: async (ev) => {
          ev.target.disabled = true;
          add(clear(rowStatus), h("span.muted", {}, label + "…"));
          try {
            await fn();
          } catch (err) {
            add(clear(rowStatus), errorBox(err, `${label} failed`));
          } finally {
            ev.target.disabled = false;
          }
        },
      },
      label
    );
  add(actions, 
    h("a.button.small", { href: `#/sources/${enc(source.name)}/edit`, "aria-label": `Edit ${source.name}` }, "Edit"),
    source.connection && source.connection.grant === "authorization_code"
      ? act(source.connection.state === "not_connected" ? "Connect" : "Reconnect", () => connectSource(source, rowStatus, refreshPage))
      : null,
    act("Refresh", async () => {
      await post(`/api/v1/sources/${enc(source.name)}/refresh`);
      await refreshPage();
    }),
    act("Delete", async () => {
      // The server refuses to delete a source that fields use (409): say so before asking.
      const users = await fieldsUsing(source.name);
      if (users.length) {
        const list = users.join(", ");
        add(clear(rowStatus), errorBox({ message: `source ${source.name} is used by the field${users.length === 1 ? "" : "s"} ${list}`, hint: `Delete those fields or point them at another source first (Fields page).` }, "Cannot delete"));
        return;
      }
      if (!confirm(`Delete source ${source.name}? No field uses it. Its cached records are dropped; this cannot be undone.`)) return clear(rowStatus);
      await del(`/api/v1/sources/${enc(source.name)}`);
      await refreshPage();
    })
  );
  const secretExpires = source.client_secret_expires || (source.auth && source.auth.client_secret_expires);
  const tokenExpiry = [
    usesTokens(source) ? h("div", {}, "Token: ", st.token_expires_at ? ["expires ", when(st.token_expires_at)] : h("span.muted", {}, "not requested yet")) : null,
    secretExpires ? h("div", { class: secretWarnings(source).length ? "warn-text" : "" }, "Secret: ", secretExpires) : null,
  ];
  const warnings = source.warnings || [];
  return h(
    "tr",
    { "data-source": source.name },
    h("th", { scope: "row" }, h("a", { href: `#/sources/${enc(source.name)}/edit` }, source.name), h("div.muted", {}, kindLabel(source, titles))),
    h("td", {}, stateCell(source)),
    h("td", {}, when(st.last_fetch_at), st.last_success_at && st.last_success_at !== st.last_fetch_at ? h("div.muted", {}, "last success ", when(st.last_success_at)) : null, syncCell(st.sync)),
    h("td.num", {}, st.records ?? h("span.muted", {}, "—")),
    h("td", {}, source.connection ? connectionCell(source.connection) : tokenExpiry.some(Boolean) ? tokenExpiry : h("span.muted", {}, "—")),
    h(
      "td.problems",
      {},
      warnings.map((w) => h("p.warn-text", {}, "⚠ ", capitalize(w))),
      st.last_error
        ? h("div.last-error", {}, h("p", {}, capitalize(st.last_error.message)), st.last_error.hint ? h("p.hint", {}, st.last_error.hint) : null)
        : null,
      !warnings.length && !st.last_error ? h("span.muted", {}, "none") : null,
      (source.targets || []).map(targetLine),
      rowStatus
    ),
    h("td", {}, actions)
  );
}

// How a source syncs (sync: delta | full) and what its last full and incremental syncs did.
function syncCell(sync) {
  if (!sync) return null;
  const inc = sync.last_incremental;
  return h(
    "div.muted.sync",
    {},
    h("div", {}, `Sync: ${sync.mode}`),
    sync.last_full_at ? h("div", {}, "last full ", when(sync.last_full_at), ` (${sync.last_full_records} items)`) : null,
    inc ? h("div", {}, "last incremental ", when(inc.at), ` (+${inc.added} ~${inc.updated} −${inc.removed})`) : null,
    sync.note ? h("div", {}, sync.note) : null
  );
}

export async function sourcesPage() {
  const section = h("section", { "aria-labelledby": "sources-title" });
  const body = h("div");
  const titles = {};
  const fieldsUsing = async (name) => ((await get("/api/v1/fields")).fields || []).filter((f) => f.source === name).map((f) => f.name);
  const load = async () => {
    if (!Object.keys(titles).length) {
      const kinds = await get("/api/v1/kinds");
      for (const k of kinds.sources || []) titles[k.type] = k.title;
    }
    const data = await get("/api/v1/sources");
    const sources = data.sources || [];
    clear(body);
    if (!sources.length) {
      add(body, h("p.empty", {}, "No sources yet. ", h("a", { href: "#/sources/new" }, "Create your first source"), "."));
      return;
    }
    add(body, 
      h(
        "div.table-wrap",
        {},
        h(
          "table.sources",
          {},
          h("caption.visually-hidden", {}, "Sources and their state"),
          h(
            "thead",
            {},
            h("tr", {}, ["Source", "State", "Last fetch", "Records", "Expiry", "Warnings and last error", "Actions"].map((c) => h("th", { scope: "col" }, c)))
          ),
          h("tbody", {}, sources.map((s) => row(s, load, titles, fieldsUsing)))
        )
      )
    );
  };
  add(section, 
    h("div.page-head", {}, h("h1", { id: "sources-title" }, "Sources"), h("a.button.primary", { href: "#/sources/new" }, "New source")),
    body
  );
  await load();
  return section;
}
