// A test double of the Jira Cloud REST API v3 endpoints a jira-field-options target uses —
// small, and faithful to the documented shapes and errors:
//
//   GET    /rest/api/3/field/{fieldId}/context                        contexts, paginated
//   GET    /rest/api/3/field/{fieldId}/context/{contextId}/option     options, paginated
//   POST   /rest/api/3/field/{fieldId}/context/{contextId}/option     create  {"options":[{value,disabled}]}
//   PUT    /rest/api/3/field/{fieldId}/context/{contextId}/option     update  {"options":[{id,value,disabled}]}
//   DELETE /rest/api/3/field/{fieldId}/context/{contextId}/option/{optionId}
//
// Sources (Atlassian developer documentation, Jira Cloud platform REST API v3):
//   - Issue custom field contexts:
//     https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-custom-field-contexts/
//     (PageBean: startAt, maxResults, total, isLast, values [{id, name, isGlobalContext, isAnyIssueType}])
//   - Issue custom field options:
//     https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-custom-field-options/
//     (get: paginated, maxResults default 100; create/update: "at most 1000 options" per request,
//      update by id; delete: 204; errors 400, 401, 403 "the user does not have the necessary
//      permission" (Administer Jira), 404 "the custom field / context is not found")
//   - Basic auth for REST APIs (e-mail + API token):
//     https://developer.atlassian.com/cloud/jira/platform/basic-auth-for-rest-apis/
//     and personal access tokens as Bearer (Data Center):
//     https://confluence.atlassian.com/enterprise/using-personal-access-tokens-1026032365.html
//   - Rate limiting (429 with Retry-After in seconds):
//     https://developer.atlassian.com/cloud/jira/platform/rate-limiting/
//   - Option values: at most 255 characters, unique within a context compared without case
//     (Jira's "option already exists" validation).
// Error bodies are Jira's ErrorCollection: {"errorMessages": [...], "errors": {...}}.
// A POST or PUT with any invalid option is refused whole (400), nothing is written.
//
// For tests (not Jira): /_jira/counters (requests by method, answers by status),
// POST /_jira/counters/reset, POST /_jira/fail {"status":429,"retry_after":"1","after":0,
// "times":1,"method":"POST"} (the next matching requests, after `after` of them, answer that
// status), GET /_jira/options?context=ID (every option, for assertions).
//
// Usage: node jira-double.mjs --port-file FILE [--email E --token T] [--pat P]
//        [--reader-token T2 (authenticates but is no admin: 403)]
//   field customfield_10042 with contexts 10142 (global) and 10143 (projects SUP, OPS).
import http from "node:http";
import fs from "node:fs";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith("--") ? [...acc, [a.slice(2), all[i + 1]]] : acc), [])
);
const EMAIL = args.email ?? "admin@contoso.com";
const TOKEN = args.token ?? "jira-api-token";
const PAT = args.pat ?? "jira-pat";
const NON_ADMIN = args["reader-token"] ?? "jira-reader-token";
const MAX_PAGE = 100;
const MAX_BATCH = 1000;
const MAX_VALUE = 255;

const FIELD = "customfield_10042";
const contexts = [
  { id: "10142", name: "Default Configuration Scheme for Customer", isGlobalContext: true, isAnyIssueType: true },
  { id: "10143", name: "Support projects", isGlobalContext: false, isAnyIssueType: true },
];
const options = new Map(contexts.map((c) => [c.id, []])); // context → [{id, value, disabled}]
let nextId = 20000;

const counters = { requests: { GET: 0, POST: 0, PUT: 0, DELETE: 0 }, status: {} };
let faults = [];

const send = (res, status, body, headers = {}) => {
  counters.status[status] = (counters.status[status] ?? 0) + 1;
  res.writeHead(status, { "Content-Type": "application/json", ...headers });
  res.end(body === undefined ? "" : JSON.stringify(body));
};
const jiraError = (res, status, messages, errors = {}, headers = {}) =>
  send(res, status, { errorMessages: messages, errors }, headers);

// Who calls: "admin", "user" (authenticated, not a Jira admin) or null.
function caller(req) {
  const auth = req.headers.authorization ?? "";
  const [scheme, value = ""] = auth.split(/ (.*)/s);
  if (/^basic$/i.test(scheme)) {
    const decoded = Buffer.from(value, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    const [user, password] = [decoded.slice(0, colon), decoded.slice(colon + 1)];
    if (user === EMAIL && password === TOKEN) return "admin";
    if (password === NON_ADMIN) return "user";
  }
  if (/^bearer$/i.test(scheme)) {
    if (value === PAT) return "admin";
    if (value === NON_ADMIN) return "user";
  }
  return null;
}

function page(res, url, all) {
  const startAt = Math.max(0, parseInt(url.searchParams.get("startAt") ?? "0", 10) || 0);
  const maxResults = Math.min(MAX_PAGE, Math.max(1, parseInt(url.searchParams.get("maxResults") ?? "50", 10) || 50));
  const values = all.slice(startAt, startAt + maxResults);
  send(res, 200, { maxResults, startAt, total: all.length, isLast: startAt + values.length >= all.length, values });
}

const folded = (v) => v.toLowerCase();

// Why Jira would refuse these option values in `context` (null when it would not):
// empty, over 255, or a duplicate of another option (case-insensitive). `except`: ids updated.
function invalid(list, incoming) {
  const keep = new Map(list.map((o) => [o.id, o]));
  for (const o of incoming) if (o.id) keep.delete(o.id);
  const seen = new Set([...keep.values()].map((o) => folded(o.value)));
  for (const o of incoming) {
    if (typeof o.value !== "string" || o.value.trim() === "")
      return [[], { value: "The value of an option must not be empty." }];
    if ([...o.value].length > MAX_VALUE)
      return [[], { value: `The option value must be ${MAX_VALUE} characters or less.` }];
    if (seen.has(folded(o.value))) return [[`The option '${o.value}' already exists.`], {}];
    seen.add(folded(o.value));
  }
  return null;
}

async function body(req) {
  let text = "";
  for await (const chunk of req) text += chunk;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function jira(req, res, url) {
  const who = caller(req);
  if (!who) return jiraError(res, 401, ["Client must be authenticated to access this resource."]);
  if (who !== "admin")
    return jiraError(res, 403, ["The user does not have the necessary permission to manage custom field options (Administer Jira)."]);
  const m = url.pathname.match(/^\/rest\/api\/3\/field\/([^/]+)\/context(?:\/([^/]+)\/option(?:\/([^/]+))?)?$/);
  if (!m) return jiraError(res, 404, ["No such endpoint in the Jira double."]);
  const [, fieldId, contextId, optionId] = m;
  if (decodeURIComponent(fieldId) !== FIELD) return jiraError(res, 404, ["The custom field was not found."]);
  if (!contextId) {
    if (req.method !== "GET") return jiraError(res, 405, ["Method not allowed."]);
    return page(res, url, contexts);
  }
  const list = options.get(decodeURIComponent(contextId));
  if (!list) return jiraError(res, 404, ["The context was not found."]);
  if (optionId) {
    if (req.method !== "DELETE") return jiraError(res, 405, ["Method not allowed."]);
    const at = list.findIndex((o) => o.id === decodeURIComponent(optionId));
    if (at < 0) return jiraError(res, 404, ["The option was not found."]);
    list.splice(at, 1);
    return send(res, 204);
  }
  if (req.method === "GET") return page(res, url, list);
  const sent = await body(req);
  if (!sent || !Array.isArray(sent.options)) return jiraError(res, 400, ["options must be a list."]);
  if (sent.options.length > MAX_BATCH)
    return jiraError(res, 400, [`Can't create or update more than ${MAX_BATCH} options in one request.`]);
  if (req.method === "POST") {
    const bad = invalid(list, sent.options.map((o) => ({ value: o.value })));
    if (bad) return jiraError(res, 400, ...bad);
    const created = sent.options.map((o) => ({ id: String(nextId++), value: o.value, disabled: !!o.disabled }));
    list.push(...created);
    return send(res, 200, { options: created });
  }
  if (req.method === "PUT") {
    for (const o of sent.options)
      if (!list.some((e) => e.id === String(o.id))) return jiraError(res, 400, [`The option with id ${o.id} was not found.`]);
    const bad = invalid(list, sent.options.map((o) => ({ id: String(o.id), value: o.value })));
    if (bad) return jiraError(res, 400, ...bad);
    const updated = sent.options.map((o) => {
      const e = list.find((x) => x.id === String(o.id));
      e.value = o.value;
      if (o.disabled !== undefined) e.disabled = !!o.disabled;
      return { ...e };
    });
    return send(res, 200, { options: updated });
  }
  return jiraError(res, 405, ["Method not allowed."]);
}

async function control(req, res, url) {
  if (url.pathname === "/_jira/counters" && req.method === "GET") return send(res, 200, counters);
  if (url.pathname === "/_jira/counters/reset" && req.method === "POST") {
    counters.requests = { GET: 0, POST: 0, PUT: 0, DELETE: 0 };
    counters.status = {};
    return send(res, 200, { ok: true });
  }
  if (url.pathname === "/_jira/fail" && req.method === "POST") {
    const f = (await body(req)) ?? {};
    faults.push({ status: f.status ?? 429, retry_after: f.retry_after, after: f.after ?? 0, times: f.times ?? 1, method: f.method });
    return send(res, 200, { ok: true });
  }
  if (url.pathname === "/_jira/options" && req.method === "GET")
    return send(res, 200, options.get(url.searchParams.get("context") ?? "10142") ?? []);
  return send(res, 404, { error: "no such control endpoint" });
}

// An injected fault for this request, when one is due.
function fault(req) {
  const f = faults.find((x) => !x.method || x.method === req.method);
  if (!f) return null;
  if (f.after > 0) {
    f.after--;
    return null;
  }
  if (--f.times <= 0) faults = faults.filter((x) => x !== f);
  return f;
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, "http://localhost");
  try {
    if (url.pathname.startsWith("/_jira/")) return await control(req, res, url);
    counters.requests[req.method] = (counters.requests[req.method] ?? 0) + 1;
    const f = fault(req);
    if (f)
      return jiraError(res, f.status, [f.status === 429 ? "Rate limit exceeded." : "Injected failure."], {},
        f.retry_after !== undefined ? { "Retry-After": String(f.retry_after) } : {});
    await jira(req, res, url);
  } catch (e) {
    jiraError(res, 500, [String(e)]);
  }
});
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address();
  if (args["port-file"]) fs.writeFileSync(args["port-file"], String(port));
  else console.log(port);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
