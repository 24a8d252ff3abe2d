// Issue 21 end to end: user grants against oidc-provider, the web UI in Chromium and the CLI.
// Run by tests/integration/oauth_user.sh. Env: EXTDATA_BIN, EXTDATA_DATA, EXTDATA_URL,
// EXTDATA_ADMIN_TOKEN, EXTDATA_PUBLIC_URL, OIDC_JSON (the server's announcement), WORK, CHROMIUM.
import { createRequire } from "node:module";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const require = createRequire(new URL("../node/package.json", import.meta.url));
const { chromium } = require("playwright-core");

const BIN = process.env.EXTDATA_BIN;
const DATA = process.env.EXTDATA_DATA;
const BASE = process.env.EXTDATA_URL;
const TOKEN = process.env.EXTDATA_ADMIN_TOKEN;
const OIDC = JSON.parse(process.env.OIDC_JSON);
const WORK = process.env.WORK;
const CALLBACK = BASE + "/oauth2/callback";

let passed = 0;
let failed = 0;
async function step(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`PASS ${String(passed + failed).padStart(2)}  ${name}`);
  } catch (err) {
    failed++;
    console.log(`FAIL ${String(passed + failed).padStart(2)}  ${name}\n        ${String(err && err.stack ? err.stack : err).split("\n").slice(0, 4).join("\n        ")}`);
  }
}
function assert(cond, message) {
  if (!cond) throw new Error(message);
}
function assertEq(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function eventually(what, fn, ms = 15000) {
  const until = Date.now() + ms;
  let last;
  while (Date.now() < until) {
    last = await fn();
    if (last) return last;
    await sleep(200);
  }
  throw new Error(`${what}: not within ${ms} ms (last: ${JSON.stringify(last)})`);
}

const cli = (...args) => spawnSync(BIN, ["--data", DATA, ...args], { encoding: "utf8", env: process.env, timeout: 120000 });
async function api(method, path, body) {
  const res = await fetch(BASE + path, {
    method,
    headers: { Authorization: "Bearer " + TOKEN, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, json, text };
}
const oidcLog = async () => (await fetch(OIDC.issuer + "/test/log")).json();
const options = async () => (await api("GET", "/api/v1/fields/customer/options")).json;

// ------------------------------------------------------------------ configuration

const config = {
  sources: [
    {
      name: "crm",
      type: "rest",
      url: OIDC.resource_url,
      records: "$.customers[*]",
      cache_ttl: "1s",
      auth: {
        type: "oauth2",
        grant: "authorization_code",
        authorize_url: OIDC.authorize_url,
        token_url: OIDC.token_url,
        revocation_url: OIDC.revocation_url,
        client_id: OIDC.web_client.client_id,
        client_secret: OIDC.web_client.client_secret,
        scope: "openid offline_access profile email api.read",
        extra_params: { prompt: "consent" },
      },
    },
    {
      name: "crm-device",
      type: "rest",
      url: OIDC.resource_url,
      records: "$.customers[*]",
      auth: {
        type: "oauth2",
        grant: "device_code",
        device_authorization_url: OIDC.device_authorization_url,
        token_url: OIDC.token_url,
        revocation_url: OIDC.revocation_url,
        client_id: OIDC.device_client.client_id,
        scope: "openid offline_access profile email api.read",
      },
    },
  ],
  fields: [{ name: "customer", source: "crm", label: "{name}", value: "{id}" }],
};
writeFileSync(join(WORK, "oauth.yaml"), JSON.stringify(config, null, 2));
const applied = cli("apply", "-f", join(WORK, "oauth.yaml"));
if (applied.status !== 0) {
  console.error(applied.stdout, applied.stderr);
  console.log("0 passed, 1 failed");
  process.exit(1);
}

const userDataDir = mkdtempSync(join(tmpdir(), "extdata-oauth-chromium-"));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  viewport: { width: 1280, height: 900 },
});
context.setDefaultTimeout(15000);
// The provider's pages import a web font from the internet: the test never waits for it.
await context.route(/fonts\.googleapis\.com/, (route) => route.abort());
const page = context.pages()[0] || (await context.newPage());

async function signInProvider(p, login) {
  await p.locator('input[name="login"]').fill(login);
  await p.locator('input[name="password"]').fill("any password");
  await p.locator('button[type="submit"]').click();
  await p.getByRole("button", { name: "Continue" }).click(); // consent
}

// ------------------------------------------------------------------ before connecting

await step("source test of a never connected source says how to connect", async () => {
  const r = cli("source", "test", "crm");
  assert(r.status !== 0, "source test must fail");
  const text = r.stdout + r.stderr;
  assert(text.includes("not connected yet — run `extdata auth connect crm` or use Connect in the UI"), text);
});

await step("source show names the redirect URI to register", async () => {
  const r = cli("--output", "json", "source", "show", "crm");
  assertEq(r.status, 0, "exit code " + r.stderr);
  const c = JSON.parse(r.stdout).connection;
  assertEq(c.redirect_uri, CALLBACK, "redirect_uri");
  assertEq(c.state, "not_connected", "state");
  assert(!r.stdout.includes(OIDC.web_client.client_secret), "the client secret is not shown");
});

await step("a callback with an unknown state is refused and nothing is stored", async () => {
  const res = await fetch(CALLBACK + "?code=made-up&state=not-issued-by-extdata");
  assertEq(res.status, 400, "status");
  const text = await res.text();
  assert(text.includes("does not belong to a sign-in"), text);
  assertEq((await api("GET", "/api/v1/sources/crm")).json.connection.state, "not_connected", "state");
});

await step("an error callback (access_denied) is explained, and its state cannot be used again", async () => {
  const started = await api("POST", "/api/v1/sources/crm/connect");
  assertEq(started.status, 200, "connect " + started.text);
  const url = new URL(started.json.authorize_url);
  const state = url.searchParams.get("state");
  assertEq(url.searchParams.get("code_challenge_method"), "S256", "PKCE method");
  assertEq(url.searchParams.get("redirect_uri"), CALLBACK, "redirect_uri");
  assertEq(url.searchParams.get("prompt"), "consent", "extra_params");
  const denied = await fetch(`${CALLBACK}?error=access_denied&error_description=End-User+aborted&state=${state}`);
  const text = await denied.text();
  assertEq(denied.status, 502, "status");
  assert(text.includes("cancelled, or consent was refused") && text.includes("Nothing was stored"), text);
  const replay = await fetch(`${CALLBACK}?code=x&state=${state}`);
  assertEq(replay.status, 400, "replayed state");
  assertEq((await api("GET", "/api/v1/sources/crm")).json.connection.state, "not_connected", "state");
});

// ------------------------------------------------------------------ Connect in the UI

await step("Connect in the UI signs in through the provider's pages and shows who connected", async () => {
  await page.goto(BASE + "/");
  await page.getByLabel("Admin API token").fill(TOKEN);
  await page.getByRole("button", { name: "Sign in" }).click();
  const row = page.locator('tr[data-source="crm"]');
  await row.waitFor();
  assert((await row.innerText()).includes(CALLBACK), "the row shows the redirect URI");
  const [popup] = await Promise.all([context.waitForEvent("page"), row.getByRole("button", { name: "Connect crm" }).click()]);
  await popup.waitForURL(/\/interaction\//);
  await signInProvider(popup, "ada");
  await popup.waitForURL((u) => u.href.startsWith(CALLBACK));
  const outcome = popup.locator("#outcome");
  assertEq(await outcome.getAttribute("data-ok"), "true", "callback page: " + (await outcome.innerText()));
  assert((await outcome.innerText()).includes("Ada Lovelace <ada@example.test>"), await outcome.innerText());
  await popup.close();
  const who = page.locator('tr[data-source="crm"] [data-connected-by]');
  await who.waitFor();
  assertEq(await who.getAttribute("data-connected-by"), "Ada Lovelace <ada@example.test>", "who connected");
  const text = await page.locator('tr[data-source="crm"]').innerText();
  assert(/api\.read/.test(text) && /offline_access/.test(text), "scopes shown: " + text);
  assert(/Token: expires/.test(text), "token expiry shown: " + text);
  // For people to look at (not asserted): the sources page after Connect.
  const shots = process.env.ARTIFACTS_DIR || (process.env.EXTDATA_SOURCE_DIR || ".") + "/artifacts/e2e";
  await import("node:fs").then((fs) => fs.mkdirSync(shots, { recursive: true }));
  await page.screenshot({ path: shots + "/oauth-connected.png", fullPage: true });
});

await step("the code was exchanged with the PKCE verifier and the redirect URI", async () => {
  const exchanges = (await oidcLog()).filter((e) => e.path === "/token" && e.grant_type === "authorization_code");
  assertEq(exchanges.length, 1, "one code exchange");
  assertEq(exchanges[0].answer, "ok", "answer");
  assertEq(exchanges[0].code_verifier_length, 43, "verifier length");
  for (const p of ["code", "code_verifier", "redirect_uri", "client_id", "client_secret"]) assert(exchanges[0].params.includes(p), "sent " + p);
});

await step("the field serves the records read with the user's token", async () => {
  const o = await options();
  assertEq(o.options.map((x) => x.label).join(","), "Contoso,Fabrikam", "labels");
});

// ------------------------------------------------------------------ rotation

await step("rotation keeps working across 10 refreshes by separate processes", async () => {
  for (let i = 1; i <= 10; i++) {
    const r = cli("auth", "crm");
    assertEq(r.status, 0, `refresh ${i}: ${r.stderr}`);
  }
  const refreshes = (await oidcLog()).filter((e) => e.path === "/token" && e.grant_type === "refresh_token");
  assertEq(refreshes.length, 10, "refresh requests");
  assert(refreshes.every((e) => e.answer === "ok"), "all answered ok");
  assertEq(new Set(refreshes.map((e) => e.refresh_token)).size, 10, "each used a new refresh token");
  const shown = cli("--output", "json", "source", "show", "crm");
  const c = JSON.parse(shown.stdout).connection;
  assertEq(c.refreshes, 10, "refreshes counted");
  assertEq(c.state, "connected", "state");
  for (const e of refreshes) assert(!shown.stdout.includes(e.refresh_token), "no refresh token is shown");
});

// ------------------------------------------------------------------ replay → reconnect needed

await step("a replayed refresh token revokes the grant: reconnect needed, the field stays served stale", async () => {
  const old = (await oidcLog()).find((e) => e.grant_type === "refresh_token").refresh_token;
  const replay = await fetch(OIDC.token_url, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: old, client_id: OIDC.web_client.client_id, client_secret: OIDC.web_client.client_secret }),
  });
  assertEq((await replay.json()).error, "invalid_grant", "the provider refuses the replay");
  await sleep(1200); // past the source's cache_ttl
  await eventually("reconnect gauge", async () => {
    const o = await options();
    assert(o && o.options && o.options.length === 2, "options stay served: " + JSON.stringify(o));
    const metrics = await (await fetch(BASE + "/metrics")).text();
    return /extdata_source_reconnect_needed\{source="crm"\} 1/.test(metrics);
  });
  const o = await options();
  assertEq(o.options.length, 2, "still two options");
  assertEq(o.stale, true, "served stale");
  const c = (await api("GET", "/api/v1/sources/crm")).json.connection;
  assertEq(c.state, "reconnect_needed", "API state");
  const shown = JSON.parse(cli("--output", "json", "source", "show", "crm").stdout).connection;
  assertEq(shown.state, "reconnect_needed", "source show state");
  await page.reload();
  await page.locator('tr[data-source="crm"] [data-connection="reconnect_needed"]').waitFor();
});

await step("reconnecting from a terminal without the server's callback: the pasted address completes it", async () => {
  const child = spawn(BIN, ["--data", DATA, "auth", "connect", "crm"], { env: process.env });
  let stderr = "";
  let stdout = "";
  child.stderr.on("data", (d) => (stderr += d));
  child.stdout.on("data", (d) => (stdout += d));
  const exited = new Promise((resolve) => child.on("exit", resolve));
  const m = await eventually("sign-in URL printed", async () => stderr.match(/sign in:\s+(\S+)/));
  assert(stderr.includes(CALLBACK), "names the redirect URI: " + stderr);
  await context.clearCookies();
  const p = await context.newPage();
  let landed = null;
  // As if no server answered at the redirect URI: the provider's answers to the sign-in forms
  // are followed by hand inside the provider and stopped at the redirect URI (Playwright does
  // not route the requests of a redirect chain); the address is all the user has.
  await p.route((u) => u.href.startsWith(OIDC.issuer + "/interaction/"), async (route) => {
    if (route.request().method() !== "POST") return route.continue();
    let res = await route.fetch({ maxRedirects: 0 });
    let location = res.headers()["location"];
    while (location && !location.startsWith(CALLBACK)) {
      res = await p.request.get(new URL(location, OIDC.issuer).href, { maxRedirects: 0 });
      location = res.headers()["location"];
    }
    if (!location) return route.fulfill({ response: res });
    landed = location;
    await route.fulfill({ status: 200, contentType: "text/html", body: "<p>This site can't be reached</p>" });
  });
  await p.goto(m[1]);
  await signInProvider(p, "ada");
  await eventually("the provider's redirect", async () => landed);
  await p.close();
  child.stdin.write(landed + "\n");
  const code = await Promise.race([exited, sleep(30000).then(() => "timeout")]);
  assertEq(code, 0, "exit code; stderr: " + stderr);
  assert(stdout.includes("connected: crm as Ada Lovelace <ada@example.test>"), stdout);
  assertEq((await api("GET", "/api/v1/sources/crm")).json.connection.state, "connected", "state");
  // Refetched with the new grant: the answer carries no error any more. (Not `stale === false`:
  // with cache_ttl 1s, records refetched by the previous poll may be a second old already.)
  await eventually("records refetched without error and the gauge back at 0", async () => {
    await sleep(1100);
    const o = await options();
    const metrics = await (await fetch(BASE + "/metrics")).text();
    return o.options && o.options.length > 0 && o.error === undefined &&
      /extdata_source_reconnect_needed\{source="crm"\} 0/.test(metrics);
  }, 20000);
});

// ------------------------------------------------------------------ device flow

await step("device flow from the terminal: user code, pending and slow_down handled, connected", async () => {
  const child = spawn(BIN, ["--data", DATA, "auth", "connect", "crm-device"], { env: process.env });
  let stderr = "";
  let stdout = "";
  child.stderr.on("data", (d) => (stderr += d));
  child.stdout.on("data", (d) => (stdout += d));
  const exited = new Promise((resolve) => child.on("exit", resolve));
  const m = await eventually("user code printed", async () => stderr.match(/open (\S+) and enter the code (\S+)/));
  const [, verification, userCode] = m;
  // Let it poll twice (pending, then slow_down) before the user approves.
  await eventually("two polls", async () => (await oidcLog()).filter((e) => e.grant_type === "urn:ietf:params:oauth:grant-type:device_code").length >= 2);
  await context.clearCookies(); // another person signs in at the provider: no session of Ada's
  const p = await context.newPage();
  await p.goto(verification);
  await p.locator('input[name="user_code"]').fill(userCode);
  await p.locator('button[type="submit"]').first().click();
  await p.getByRole("button", { name: "Continue" }).click(); // "Confirm Device": the code matches
  await signInProvider(p, "grace");
  await p.getByText(/Sign-in Success|successfully/i).first().waitFor();
  await p.close();
  const code = await Promise.race([exited, sleep(30000).then(() => "timeout")]);
  assertEq(code, 0, "exit code; stderr: " + stderr);
  assert(stdout.includes("connected: crm-device as Ada Lovelace <grace@example.test>"), stdout);
  assert(stderr.includes("poll less often"), "slow_down noticed: " + stderr);
  const polls = (await oidcLog()).filter((e) => e.grant_type === "urn:ietf:params:oauth:grant-type:device_code").map((e) => e.answer);
  assertEq(polls[0], "authorization_pending", "first poll");
  assertEq(polls[1], "slow_down", "second poll");
  assertEq(polls.at(-1), "ok", "last poll");
});

await step("deleting a source revokes its refresh token at the provider (RFC 7009)", async () => {
  const del = await api("DELETE", "/api/v1/sources/crm-device");
  assertEq(del.status, 200, "delete " + del.text);
  const revocations = (await oidcLog()).filter((e) => e.path === "/token/revocation");
  assertEq(revocations.length, 1, "one revocation");
  assertEq(revocations[0].token_type_hint, "refresh_token", "hint");
  assertEq(revocations[0].answer, "ok", "answer");
  const reuse = await fetch(OIDC.token_url, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "refresh_token", refresh_token: revocations[0].token, client_id: OIDC.device_client.client_id }),
  });
  assertEq((await reuse.json()).error, "invalid_grant", "the revoked token no longer works");
});

await context.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
