// Thin client of the extdata HTTP API for the admin pages. The admin token lives in
// sessionStorage only (gone when the tab closes); secrets typed by the user go to the
// server and are never read back: the server masks them as {"set": true}.
const TOKEN_KEY = "extdata.adminToken";

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}
export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

// An error the server explained. Every failed answer is {"ok": false, "error": {code,
// category, message, hint, upstream}} (docs/errors.md): message, hint and the upstream details.
export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || "http." + status;
    this.category = e.category || "";
    this.hint = e.hint || "";
    this.upstream = e.upstream || {};
  }
}

// The answer's JSON and its ETag (the stored version of a source or field).
async function send(method, path, body, extraHeaders) {
  const headers = { Accept: "application/json", ...extraHeaders };
  const t = token();
  if (t) headers.Authorization = "Bearer " + t;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    throw new ApiError(0, { error: { code: "network", message: "the extdata server did not answer", hint: "Check that `extdata serve` is running and reachable." } });
  }
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = { error: { message: `the server answered HTTP ${res.status} with a body that is not JSON`, hint: "" } };
  }
  if (!res.ok) throw new ApiError(res.status, json);
  return { json, etag: res.headers.get("ETag") };
}

export async function api(method, path, body) {
  return (await send(method, path, body)).json;
}

// Sources and fields are versioned: GET answers an ETag; "New" creates only when the name is
// free (If-None-Match: *) and "Edit" replaces only the version it read (If-Match). Either
// fails with 412 (store.exists, store.version_mismatch) instead of overwriting.
// Each resolves to {json, etag}.
export const getVersioned = (p) => send("GET", p);
export const create = (p, b) => send("PUT", p, b, { "If-None-Match": "*" });
export const replace = (p, b, etag) => send("PUT", p, b, { "If-Match": etag || "*" });

export const get = (p) => api("GET", p);
export const post = (p, b) => api("POST", p, b === undefined ? {} : b);
export const put = (p, b) => api("PUT", p, b);
export const del = (p) => api("DELETE", p);
export const enc = encodeURIComponent;
