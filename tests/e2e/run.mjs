// End-to-end tests of the web UI in Debian's Chromium (headless) driven by playwright-core.
// Run by tests/integration/e2e_web.sh against a real `extdata serve` and graphsim.
// Env: EXTDATA_URL, EXTDATA_ADMIN_TOKEN, GRAPHSIM_URL, ARTIFACTS_DIR, CHROMIUM (optional),
// DOCS_IMG_DIR (optional: also save the documentation screenshots there).
import { createRequire } from "node:module";
import { mkdtempSync, mkdirSync, rmSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const require = createRequire(new URL("../node/package.json", import.meta.url));
let chromium;
try {
  ({ chromium } = require("playwright-core"));
} catch (err) {
  console.error("playwright-core is not installed: run scripts/install-deps (npm install in tests/node)");
  console.log("0 passed, 1 failed");
  process.exit(1);
}

const BASE = need("EXTDATA_URL");
const ADMIN_TOKEN = need("EXTDATA_ADMIN_TOKEN");
const GRAPHSIM = need("GRAPHSIM_URL");
const ARTIFACTS = process.env.ARTIFACTS_DIR || "artifacts/e2e";
const DOCS_IMG = process.env.DOCS_IMG_DIR || "";
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const TIMEOUT = 15000;

const TENANT = "contoso.onmicrosoft.com";
const VALID_APP = "11111111-1111-4111-8111-111111111111";
const VALID_SECRET = "Abc8Q~graphsimDemoSecret.Value-0001xYz2";
const EXPIRED_APP = "22222222-2222-4222-8222-222222222222";
const EXPIRED_SECRET = "Exp7Q~graphsimExpiredSecret.Value-02aB";
const SITE = "https://contoso.sharepoint.com/sites/Sales";
const SOURCE = "sales-customers";
const FIELD = "sales_customer";

function need(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`missing environment variable ${name}`);
    console.log("0 passed, 1 failed");
    process.exit(1);
  }
  return v.replace(/\/+$/, "");
}

function assert(cond, message) {
  if (!cond) throw new Error(message);
}
function assertEq(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

mkdirSync(ARTIFACTS, { recursive: true });
if (DOCS_IMG) mkdirSync(DOCS_IMG, { recursive: true });
const userDataDir = mkdtempSync(join(tmpdir(), "extdata-e2e-chromium-"));

const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: CHROMIUM,
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  viewport: { width: 1280, height: 900 },
});
context.setDefaultTimeout(TIMEOUT);
const page = context.pages()[0] || (await context.newPage());
const dialogs = [];
page.on("dialog", (d) => {
  dialogs.push(d.message());
  d.accept();
});
const consoleErrors = [];
page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
page.on("pageerror", (e) => consoleErrors.push(String(e)));

// Every answer the browser got from the API, to prove no secret is ever sent back.
const apiBodies = [];
page.on("response", (res) => {
  if (new URL(res.url()).pathname.startsWith("/api/")) apiBodies.push(res.text().then((t) => ({ url: res.url(), body: t }), () => ({ url: res.url(), body: "" })));
});

async function shot(name, docName) {
  const file = join(ARTIFACTS, name + ".png");
  await page.screenshot({ path: file, fullPage: true });
  if (DOCS_IMG && docName) copyFileSync(file, join(DOCS_IMG, docName + ".png"));
}

let passed = 0;
let failed = 0;
async function step(name, fn) {
  try {
    await fn();
    passed += 1;
    console.log(`ok - ${name}`);
  } catch (err) {
    failed += 1;
    console.log(`not ok - ${name}\n  ${String(err.message || err).split("\n").join("\n  ")}`);
    const safe = name.replace(/[^a-z0-9]+/gi, "-").toLowerCase();
    await page.screenshot({ path: join(ARTIFACTS, `FAILED-${safe}.png`), fullPage: true }).catch(() => {});
  }
}

async function apiGet(path) {
  const res = await fetch(BASE + path, { headers: { Authorization: "Bearer " + ADMIN_TOKEN } });
  return { status: res.status, body: await res.json(), etag: res.headers.get("ETag") };
}
async function apiPut(path, body) {
  const res = await fetch(BASE + path, { method: "PUT", headers: { Authorization: "Bearer " + ADMIN_TOKEN, "Content-Type": "application/json" }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json(), etag: res.headers.get("ETag") };
}
// What GET answers, as a PUT takes it back (secrets stay {"set": true}: the server keeps them).
async function storedSpec(path) {
  const { body } = await apiGet(path);
  delete body.warnings;
  delete body.status;
  return body;
}

const wizard = (name) => page.locator(`form.card [name="${name}"]`);

// ------------------------------------------------------------------ sign-in

await step("sign-in rejects an unknown token with the server's hint", async () => {
  await page.goto(BASE + "/");
  await page.getByLabel("Admin API token").fill("not-a-token");
  await page.getByRole("button", { name: "Sign in" }).click();
  const alert = page.getByRole("alert");
  await alert.waitFor();
  const text = await alert.innerText();
  assert(/not valid/i.test(text), `error should say the token is not valid: ${text}`);
  assert(/extdata token create/.test(text), `error should carry the hint: ${text}`);
  assert(await page.locator("#nav").isHidden(), "no navigation (with Sign out) before signing in");
  await shot("signin-error", "signin");
});

await step("sign-in with the admin token opens the sources page", async () => {
  await page.getByLabel("Admin API token").fill(ADMIN_TOKEN);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Sources", level: 1 }).waitFor();
  await page.locator('tr[data-source="customers"]').waitFor();
});

// ------------------------------------------------------------------ wizard

await step("wizard pre-fills the token URL and scope and maps edits back", async () => {
  await page.getByRole("navigation").getByRole("link", { name: "New source", exact: true }).click();
  await page.getByRole("heading", { name: "New source" }).waitFor();
  assert(await page.getByLabel("SharePoint list").isChecked(), "the SharePoint preset is the default");
  // Chromium compiles `pattern` with the v flag: an invalid one would check nothing.
  await page.getByLabel("Source name").fill("not a name");
  assert(await wizard("name").evaluate((el) => el.validity.patternMismatch), "the name pattern rejects spaces");
  await page.getByLabel("Source name").fill(SOURCE);
  assert(!(await wizard("name").evaluate((el) => el.validity.patternMismatch)), "the name pattern accepts a valid name");
  await page.getByLabel("Tenant", { exact: true }).fill(TENANT);
  assertEq(await wizard("token_url").inputValue(), `https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/token`, "token URL");
  assertEq(await wizard("scope").inputValue(), "https://graph.microsoft.com/.default", "scope");
  await page.getByText("Advanced: national clouds and simulators").click();
  // Editing the token URL and scope as Entra ID shows them updates authority and graph.
  await wizard("token_url").fill(`${GRAPHSIM}/${TENANT}/oauth2/v2.0/token`);
  assertEq(await wizard("authority").inputValue(), GRAPHSIM, "authority from the token URL");
  await wizard("scope").fill("https://graph.microsoft.us/.default");
  assertEq(await wizard("graph").inputValue(), "https://graph.microsoft.us/v1.0", "graph from a national cloud's scope");
  await wizard("scope").fill("not a scope");
  assert(/\/\.default/.test(await page.locator(".inline-error").last().innerText()), "a malformed scope is explained");
  // graphsim stands in for Graph and takes Graph's tokens: the scope stays Graph's.
  await wizard("graph").fill(`${GRAPHSIM}/v1.0`);
  assertEq(await wizard("scope").inputValue(), "https://graph.microsoft.com/.default", "scope for a non-Microsoft Graph host");
  assertEq(await wizard("token_url").inputValue(), `${GRAPHSIM}/${TENANT}/oauth2/v2.0/token`, "token URL kept");
});

await step("authenticate with an expired secret shows the error and its hint", async () => {
  await page.getByLabel("Client ID").fill(EXPIRED_APP);
  await page.getByLabel("Client secret").fill(EXPIRED_SECRET);
  assertEq(await page.getByLabel("Client secret").getAttribute("type"), "password", "secret input type");
  await page.getByRole("button", { name: "Authenticate" }).click();
  const alert = page.locator("#auth-result [role=alert]");
  await alert.waitFor();
  const message = await alert.locator(".message").innerText();
  const hint = await alert.locator(".hint").innerText();
  assert(/expired/i.test(message), `message names the expiry: ${message}`);
  assert(/secret/i.test(hint) && hint.length > 20, `hint tells what to do: ${hint}`);
  assert(!(await alert.innerText()).includes("{\""), "no raw JSON in the error");
  await shot("wizard-expired-secret", "wizard-expired-secret");
});

await step("a missing secret is named as the form names it, and marked", async () => {
  await page.getByLabel("Client ID").fill(VALID_APP);
  await page.getByLabel("Client secret").fill("");
  await page.getByRole("button", { name: "Authenticate" }).click();
  const alert = page.locator("#auth-result [role=alert]");
  await alert.waitFor();
  const text = await alert.innerText();
  assert(text.includes("Client secret is required"), `the form's label, not the config key: ${text}`);
  assert(!/line 1|client_secret/.test(text), `no config key or line: ${text}`);
  assert(!text.includes("Details from the upstream service"), `no upstream answered: ${text}`);
  assertEq(await page.getByLabel("Client secret").getAttribute("aria-invalid"), "true", "the control is marked invalid");
});

await step("a rejected secret blames a pasted secret ID only when it looks like one", async () => {
  const alert = page.locator("#auth-result [role=alert]");
  await page.getByLabel("Client secret").fill("Abc8Q~thisIsNotTheRightValue.0000xYz2");
  await page.getByRole("button", { name: "Authenticate" }).click();
  await alert.waitFor();
  let hint = await alert.locator(".hint").innerText();
  assert(/wrong or the secret was deleted/.test(hint) && !/secret ID/.test(hint), `a wrong value: ${hint}`);
  assert((await alert.innerText()).includes("Details from the upstream service"), "Entra answered: its details are offered");
  await page.getByLabel("Client secret").fill("9d2c7a51-3e8f-4b6a-9c1d-0e5f4a3b2c10");
  await page.getByRole("button", { name: "Authenticate" }).click();
  await page.locator("#auth-result [role=alert] .hint", { hasText: "secret ID" }).waitFor();
});

await step("authenticate with a valid secret shows the token's roles", async () => {
  await page.getByLabel("Client ID").fill(VALID_APP);
  await page.getByLabel("Client secret").fill(VALID_SECRET);
  await page.getByLabel("Secret expires").fill("2099-12-31");
  await page.getByRole("button", { name: "Authenticate" }).click();
  await page.locator("#auth-result .notice.ok").waitFor();
  const roles = await page.locator('#auth-result dd[data-claim="Roles"]').innerText();
  assert(roles.includes("Sites.Read.All"), `roles: ${roles}`);
  await shot("wizard-authenticated", "wizard-authenticated");
});

await step("site URL → list picker → column picker", async () => {
  await page.getByLabel("Site URL").fill(SITE);
  await page.getByRole("button", { name: "Find lists" }).click();
  const list = page.getByLabel("List", { exact: true });
  await list.locator("option", { hasText: "Customers" }).waitFor({ state: "attached" });
  // A failed lookup for another site must not leave this site's lists choosable.
  await page.getByLabel("Site URL").fill("https://contoso.sharepoint.com/sites/NoSuchSite");
  await page.getByRole("button", { name: "Find lists" }).click();
  await page.locator("[role=alert]", { hasText: "Could not read the site's lists" }).waitFor();
  assertEq(JSON.stringify(await list.locator("option").allInnerTexts()), JSON.stringify(["Find the site's lists first"]), "lists after a failed lookup");
  assert(await list.isDisabled(), "the list picker is disabled again");
  await page.getByLabel("Site URL").fill(SITE);
  await page.getByRole("button", { name: "Find lists" }).click();
  await list.locator("option", { hasText: "Customers" }).waitFor({ state: "attached" });
  const titles = await list.locator("option").allInnerTexts();
  for (const t of ["Customers", "Countries", "Cities"]) assert(titles.some((x) => x.startsWith(t)), `list ${t} offered: ${titles}`);
  await list.selectOption("Customers");
  await page.locator("fieldset.columns input[value=Title]").waitFor();
  for (const c of ["Title", "Country", "City", "AccountManagerName"]) await page.locator(`fieldset.columns input[value="${c}"]`).check();
});

await step("save and test shows steps, a record preview and raw responses", async () => {
  await page.getByRole("button", { name: "Save and test" }).click();
  const result = page.locator("#save-result .test-result");
  await result.waitFor({ timeout: 30000 });
  assertEq(await result.getAttribute("data-ok"), "true", "test result ok");
  const preview = await page.locator(".record-preview").innerText();
  assert(preview.includes("Nordlicht Logistik AG"), `preview shows records: ${preview.slice(0, 200)}`);
  const stepRows = await page.locator("#save-result .test-result table.records").first().locator("tbody tr").count();
  assert(stepRows >= 1, "at least one request step is listed");
  const saved = await page.locator("#save-result .notice.ok").first().innerText();
  assert(!saved.includes("Testing it"), `the saved notice is final once the test is done: ${saved}`);
  const times = await page.locator("#save-result .test-result table.records").first().locator("tbody tr td:nth-child(4)").allInnerTexts();
  for (const t of times) assert(/^\d+(\.\d{1,2})? (ms|s)$/.test(t), `a time as people read it: ${t}`);
  const headers = await page.locator(".record-preview th").allInnerTexts();
  assert(headers[0] === "id" || headers[0].startsWith("fields."), `the list's columns come first: ${headers.join(", ")}`);
  const title = headers.indexOf("fields.Title");
  assert(title >= 0 && (!headers.includes("eTag") || title < headers.indexOf("eTag")), `Title before Graph metadata: ${headers.join(", ")}`);
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert(width <= 1280, `the results fit the 1280 px window (page is ${width} px wide)`);
  const raw = page.locator("details.raw");
  assert(!(await raw.evaluate((d) => d.open)), "raw responses start collapsed");
  await raw.locator("summary").click();
  await raw.locator("pre").first().waitFor();
  await shot("wizard-save-and-test", "wizard-save-and-test");
});

await step("the saved source keeps its secret on the server only", async () => {
  const { status, body } = await apiGet(`/api/v1/sources/${SOURCE}`);
  assertEq(status, 200, "GET saved source");
  assertEq(JSON.stringify(body.client_secret), '{"set":true}', "client_secret as the API shows it");
  assertEq(body.list, "Customers", "list");
  assertEq(body.authority, GRAPHSIM, "authority");
  const bodies = await Promise.all(apiBodies);
  assert(bodies.length > 5, "API answers were recorded");
  for (const { url, body: text } of bodies)
    for (const secret of [VALID_SECRET, EXPIRED_SECRET]) assert(!text.includes(secret), `a secret came back from ${url}`);
});

await step("sources page shows the new source with its state", async () => {
  await page.getByRole("navigation").getByRole("link", { name: "Sources", exact: true }).click();
  const row = page.locator(`tr[data-source="${SOURCE}"]`);
  await row.waitFor();
  const text = await row.innerText();
  assert(text.includes("SharePoint list Customers"), `row describes the source: ${text}`);
  assert(/Token: expires in/.test(text), `the token the test obtained is shown with its expiry: ${text}`);
  await shot("sources", "sources");
});

await step("deleting a source that fields use says which fields, without a dialog", async () => {
  const before = dialogs.length;
  await page.getByRole("button", { name: "Delete customers" }).click();
  const alert = page.locator('tr[data-source="customers"] [role=alert]');
  await alert.waitFor();
  const text = await alert.innerText();
  assert(/used by the fields? .*customer/.test(text), `names the fields: ${text}`);
  assertEq(dialogs.length, before, "no confirmation dialog for a delete that cannot happen");
  assertEq((await apiGet("/api/v1/sources/customers")).status, 200, "the source is still there");
});

// ------------------------------------------------------------------ any other kind

// A JSON document served without a token: graphsim's counters (not extdata's own /healthz, which
// the network policy refuses: a source may not call the server it runs in).
const REST_SOURCE = "graphsim-counters";
const REST_KEY = "e2e-api-key-0123456789";

await step("the wizard offers every kind of GET /api/v1/kinds with a form rendered from its settings", async () => {
  const kinds = await apiGet("/api/v1/kinds");
  assertEq(kinds.status, 200, "GET /api/v1/kinds");
  await page.goto(BASE + "/#/sources/new");
  for (const k of kinds.body.sources) await page.getByRole("radio", { name: new RegExp(k.title) }).first().waitFor();
  await page.getByRole("radio", { name: /REST API/ }).check();
  const rest = kinds.body.sources.find((k) => k.type === "rest");
  for (const st of rest.settings.filter((x) => !["name", "type", "cache_ttl"].includes(x.key)))
    assertEq(await page.locator(`form.card [data-key="${st.key}"]`).count(), 1, `one control for ${st.key}`);
  assertEq(await wizard("url").getAttribute("type"), "url", "url is a URL input");
  assertEq(await wizard("method").evaluate((e) => e.tagName), "SELECT", "method is a choice");
});

await step("a rest source is created through the generic form, with its secret kept on the server", async () => {
  await page.locator('form.card [name="name"]').fill(REST_SOURCE);
  await wizard("url").fill(GRAPHSIM + "/_graphsim/counters");
  await wizard("records").fill("$");
  await wizard("auth.type").selectOption("api_key");
  await wizard("auth.name").fill("X-Api-Key");
  await wizard("auth.value").fill(REST_KEY);
  assertEq(await wizard("auth.value").getAttribute("type"), "password", "the key is a password input");
  await shot("wizard-generic-rest", "wizard-generic-rest");
  await page.getByRole("button", { name: "Save and test" }).click();
  const result = page.locator("#save-result .test-result");
  await result.waitFor({ timeout: 30000 });
  assertEq(await result.getAttribute("data-ok"), "true", "test result ok");
  const { status, body } = await apiGet(`/api/v1/sources/${REST_SOURCE}`);
  assertEq(status, 200, "GET saved rest source");
  assertEq(body.type, "rest", "type");
  assertEq(body.url, GRAPHSIM + "/_graphsim/counters", "url as typed");
  assertEq(body.auth.type, "api_key", "auth method");
  assertEq(body.auth.name, "X-Api-Key", "key name");
  assertEq(JSON.stringify(body.auth.value), '{"set":true}', "the key as the API shows it");
  const bodies = await Promise.all(apiBodies);
  for (const { url, body: text } of bodies) assert(!text.includes(REST_KEY), `the API key came back from ${url}`);
});

await step("editing the rest source fills the generic form and the sources page names its kind", async () => {
  await page.goto(BASE + `/#/sources/${REST_SOURCE}/edit`);
  await page.getByRole("heading", { name: `Edit source ${REST_SOURCE}` }).waitFor();
  await wizard("url").waitFor();
  assertEq(await wizard("url").inputValue(), GRAPHSIM + "/_graphsim/counters", "url filled in");
  assertEq(await wizard("auth.type").inputValue(), "api_key", "auth method selected");
  assert(/stored/.test(await wizard("auth.value").getAttribute("placeholder")), "the stored key is not shown");
  await page.getByRole("navigation").getByRole("link", { name: "Sources", exact: true }).click();
  const row = page.locator(`tr[data-source="${REST_SOURCE}"]`);
  await row.waitFor();
  const text = await row.innerText();
  assert(text.includes("REST API"), `row names the kind: ${text}`);
  await shot("sources-two-kinds");
  await page.goto(BASE + `/#/sources/${REST_SOURCE}/edit`);
  await page.getByRole("heading", { name: `Edit source ${REST_SOURCE}` }).waitFor();
  assert(!(await page.locator("fieldset.presets").isVisible()), "editing hides the preset picker");
});

// ------------------------------------------------------------------ fields

await step("fields page creates a field with a live options preview", async () => {
  await page.getByRole("navigation").getByRole("link", { name: "Fields", exact: true }).click();
  await page.getByRole("heading", { name: "Fields", level: 1 }).waitFor();
  await page.getByRole("button", { name: "New field" }).click();
  const form = page.locator("form.field-editor");
  await form.getByLabel("Name", { exact: true }).fill(FIELD);
  await form.getByLabel("Source", { exact: true }).selectOption(SOURCE);
  await form.getByLabel("Label template").fill("{fields.Title} ({fields.Country})");
  await page.locator("#field-preview table").waitFor({ timeout: 30000 });
  await page.locator("#field-preview", { hasText: "Nordlicht Logistik AG (Germany)" }).waitFor();
  await form.getByLabel("Search", { exact: true }).fill("älvsborg");
  await page.locator("#field-preview", { hasText: "matching" }).waitFor();
  const preview = await page.locator("#field-preview").innerText();
  assert(preview.includes("Älvsborg Hälsa AB (Sweden)") && !preview.includes("Nordlicht"), `search narrows the preview: ${preview}`);
  await form.getByLabel("Search", { exact: true }).fill("");
  await page.locator("#field-preview", { hasText: "Nordlicht" }).waitFor();
  await shot("fields", "fields");
  await form.getByRole("button", { name: "Save field" }).click();
  await page.locator(`tr[data-field="${FIELD}"]`).waitFor();
  const { status, body } = await apiGet(`/api/v1/fields/${FIELD}`);
  assertEq(status, 200, "GET field");
  assertEq(body.label, "{fields.Title} ({fields.Country})", "saved label");
  const tryLink = page.locator("#try-field-link");
  assertEq(await tryLink.getAttribute("href"), `/demo/form?field=${FIELD}`, "the saved field can be tried in the demo form");
});

await step("column chips offer the LookupId of person columns (what records carry)", async () => {
  await page.getByRole("button", { name: "Edit customer" }).click();
  const chips = page.getByRole("group", { name: "Column suggestions" });
  await chips.getByRole("button", { name: "fields.Account_x0020_ManagerLookupId" }).waitFor();
  const names = await chips.getByRole("button").allInnerTexts();
  assert(!names.includes("fields.Account_x0020_Manager"), `the empty person column is not offered: ${names.join(", ")}`);
});

await step("a dependent field's preview names the context it waits for", async () => {
  await page.getByRole("button", { name: "Edit city" }).click();
  const waiting = page.locator("#field-preview [data-missing]");
  await waiting.waitFor({ timeout: 30000 });
  assertEq(await waiting.getAttribute("data-missing"), "country", "the missing context key");
  assert((await waiting.innerText()).includes("country = …"), "says how to give it");
  await page.getByLabel("Context for the preview").fill("country = Germany");
  await page.locator("#field-preview table").waitFor({ timeout: 30000 });
});

// ------------------------------------------------------------------ create is not replace

const conflict = (kind) => page.locator(`[data-conflict="${kind}"]`);

await step("wizard: New source with a taken name offers to open it or rename, and replaces nothing", async () => {
  const before = await apiGet("/api/v1/sources/customers");
  assertEq(before.status, 200, "the demo's customers source exists");
  assert(before.etag, "GET answers an ETag");
  await page.goto(BASE + "/#/sources/new");
  await page.getByRole("heading", { name: "New source" }).waitFor();
  await page.getByRole("radio", { name: /REST API/ }).check();
  await page.locator('form.card [name="name"]').fill("customers");
  await wizard("url").fill(BASE + "/healthz");
  await wizard("records").fill("$");
  await page.getByRole("button", { name: "Save and test" }).click();
  const notice = conflict("exists");
  await notice.waitFor();
  const text = await notice.innerText();
  assert(/customers exists already/.test(text) && /Nothing was saved/.test(text), `the notice says what happened: ${text}`);
  assertEq(await page.locator("#save-result .test-result").count(), 0, "no test ran");
  await shot("wizard-name-taken", "wizard-name-taken");
  const after = await apiGet("/api/v1/sources/customers");
  assertEq(after.etag, before.etag, "the stored version is the same");
  assertEq(after.body.type, "sharepoint-list", "still the demo's SharePoint source");
  assertEq(after.body.list, before.body.list, "list");
  assertEq(after.body.client_secret_expires, before.body.client_secret_expires, "client_secret_expires kept");
  await notice.getByRole("button", { name: "Choose another name" }).click();
  assert(await page.locator('form.card [name="name"]').evaluate((el) => el === document.activeElement), "the name box has the focus");
  assertEq(await conflict("exists").count(), 0, "the notice is gone");
  await page.getByRole("button", { name: "Save and test" }).click();
  await conflict("exists").getByRole("button", { name: "Open the existing one" }).click();
  await page.getByRole("heading", { name: "Edit source customers" }).waitFor();
  assertEq(await page.getByLabel("Tenant", { exact: true }).inputValue(), TENANT, "the stored source is shown");
});

await step("wizard: saving over someone else's change is refused and offers Reload", async () => {
  await page.goto(BASE + `/#/sources/${REST_SOURCE}/edit`);
  await page.getByRole("heading", { name: `Edit source ${REST_SOURCE}` }).waitFor();
  await wizard("url").waitFor();
  // Another admin saves the source while this page is open.
  const theirs = await storedSpec(`/api/v1/sources/${REST_SOURCE}`);
  // Same origin as before: a kept secret may not follow a changed origin (config.secret_rebound).
  theirs.url = GRAPHSIM + "/_graphsim/counters?changed=by-someone-else";
  const other = await apiPut(`/api/v1/sources/${REST_SOURCE}`, theirs);
  assertEq(other.status, 200, "the other save");
  await wizard("url").fill(GRAPHSIM + "/_graphsim/counters?changed=by-me");
  await page.getByRole("button", { name: "Save and test" }).click();
  const notice = conflict("changed");
  await notice.waitFor();
  assert(/Someone else changed the source/.test(await notice.innerText()), "the notice names the cause");
  await shot("wizard-changed-meanwhile", "wizard-changed-meanwhile");
  const stored = await apiGet(`/api/v1/sources/${REST_SOURCE}`);
  assertEq(stored.body.url, theirs.url, "their change is kept");
  assertEq(stored.etag, other.etag, "the version is theirs");
  await notice.getByRole("button", { name: "Reload" }).click();
  await page.waitForFunction((url) => document.querySelector('form.card [name="url"]')?.value === url, theirs.url);
  await page.getByRole("button", { name: "Save and test" }).click();
  await page.locator("#save-result .test-result").waitFor({ timeout: 30000 });
  assertEq(await conflict("changed").count(), 0, "after Reload the save goes through");
});

await step("field editor: New field with a taken name offers to open it or rename, and replaces nothing", async () => {
  const before = await apiGet("/api/v1/fields/customer");
  assertEq(before.status, 200, "the demo's customer field exists");
  await page.goto(BASE + "/#/fields");
  await page.getByRole("button", { name: "New field" }).click();
  const form = page.locator("form.field-editor");
  await form.getByLabel("Name", { exact: true }).fill("customer");
  await form.getByLabel("Source", { exact: true }).selectOption("customers");
  await form.getByLabel("Label template").fill("{fields.Title} (overwritten)");
  await form.getByRole("button", { name: "Save field" }).click();
  const notice = conflict("exists");
  await notice.waitFor();
  assert(/field named customer exists already/.test(await notice.innerText()), "the notice names the field");
  await shot("field-name-taken", "field-name-taken");
  const after = await apiGet("/api/v1/fields/customer");
  assertEq(after.etag, before.etag, "the stored version is the same");
  assertEq(after.body.label, before.body.label, "the demo's label is kept");
  await notice.getByRole("button", { name: "Choose another name" }).click();
  assert(await form.getByLabel("Name", { exact: true }).evaluate((el) => el === document.activeElement), "the name box has the focus");
  await form.getByRole("button", { name: "Save field" }).click();
  await conflict("exists").getByRole("button", { name: "Open the existing one" }).click();
  const opened = page.locator("form.field-editor");
  await opened.getByRole("heading", { name: "Edit field customer" }).waitFor();
  assertEq(await opened.getByLabel("Label template").inputValue(), before.body.label, "the stored field is shown");
  assert(await opened.getByLabel("Name", { exact: true }).isDisabled(), "its name is fixed");
});

await step("field editor: saving over someone else's change is refused and offers Reload", async () => {
  await page.locator(`tr[data-field="${FIELD}"]`).getByRole("button", { name: `Edit ${FIELD}` }).click();
  const form = page.locator("form.field-editor");
  await form.getByRole("heading", { name: `Edit field ${FIELD}` }).waitFor();
  const theirs = await storedSpec(`/api/v1/fields/${FIELD}`);
  theirs.label = "{fields.Title} [{fields.Country}]";
  assertEq((await apiPut(`/api/v1/fields/${FIELD}`, theirs)).status, 200, "the other save");
  await form.getByLabel("Label template").fill("{fields.Title} — mine");
  await form.getByRole("button", { name: "Save field" }).click();
  const notice = conflict("changed");
  await notice.waitFor();
  assert(/Someone else changed the field/.test(await notice.innerText()), "the notice names the cause");
  assertEq((await apiGet(`/api/v1/fields/${FIELD}`)).body.label, theirs.label, "their change is kept");
  await notice.getByRole("button", { name: "Reload" }).click();
  await page.waitForFunction((label) => document.querySelector('form.field-editor [name="label"]')?.value === label, theirs.label);
  await page.locator("form.field-editor").getByRole("button", { name: "Save field" }).click();
  await page.locator("form.field-editor .notice.ok", { hasText: "Saved" }).waitFor();
});

// ------------------------------------------------------------------ demo form and widget

await step("demo form: pick a customer with the keyboard; account manager follows", async () => {
  await page.goto(BASE + "/demo/form");
  const customer = page.getByRole("combobox", { name: "Customer" });
  await customer.waitFor();
  assertEq(await customer.getAttribute("aria-expanded"), "false", "closed at first");
  await customer.focus();
  await page.keyboard.type("nordl");
  const listbox = page.getByRole("listbox", { name: "Customer" });
  await listbox.getByRole("option", { name: /Nordlicht Logistik AG/ }).waitFor();
  assertEq(await customer.getAttribute("aria-expanded"), "true", "open while typing");
  await page.keyboard.press("ArrowDown");
  const active = await customer.getAttribute("aria-activedescendant");
  assert(active, "aria-activedescendant points at the highlighted option");
  assertEq(await page.locator(`#${active}`).getAttribute("aria-selected"), "true", "highlighted option is aria-selected");
  await shot("demo-form-open", "demo-form-listbox");
  await page.keyboard.press("Enter");
  assertEq(await customer.getAttribute("aria-expanded"), "false", "closed after choosing");
  assert((await customer.inputValue()).startsWith("Nordlicht Logistik AG"), "label shown");
  assertEq(await page.locator('#ticket input[type=hidden][name=customer]').inputValue(), "1", "the form carries the record id");
  await page.locator("#account_manager").evaluate((el) => new Promise((resolve) => (el.value ? resolve() : el.addEventListener("change", resolve, { once: true }))));
  assertEq(await page.locator("#account_manager").inputValue(), "Mateus Gonçalves", "account manager");
});

await step("demo form: Country → City with the keyboard", async () => {
  const city = page.getByRole("combobox", { name: "City" });
  assertEq(await city.getAttribute("aria-disabled"), "true", "city waits for a country");
  const country = page.getByRole("combobox", { name: "Country" });
  await country.focus();
  await page.keyboard.type("Swed");
  await page.getByRole("listbox", { name: "Country" }).getByRole("option", { name: "Sweden" }).waitFor();
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("Enter");
  assertEq(await country.inputValue(), "Sweden", "country chosen");
  assertEq(await city.getAttribute("aria-disabled"), null, "city enabled");
  await city.focus();
  await page.keyboard.press("ArrowDown");
  const options = page.getByRole("listbox", { name: "City" }).getByRole("option");
  await options.first().waitFor();
  const names = await options.allInnerTexts();
  assert(names.includes("Stockholm") && names.includes("Göteborg"), `Swedish cities offered: ${names}`);
  assert(!names.includes("Hamburg"), `no German cities: ${names}`);
  await page.keyboard.press("End");
  await page.keyboard.press("Enter");
  const chosen = await city.inputValue();
  assert(names.includes(chosen), `a city is chosen: ${chosen}`);
  await page.getByRole("button", { name: "Create ticket" }).click();
  const submitted = JSON.parse(await page.locator("#submitted").innerText());
  assertEq(submitted.customer, "1", "submitted customer");
  assertEq(submitted.country, "Sweden", "submitted country");
  assertEq(submitted.city, chosen, "submitted city");
  await shot("demo-form", "demo-form");
});

await step("widget: empty, error and Escape states are announced", async () => {
  const customer = page.getByRole("combobox", { name: "Customer" });
  await customer.fill("");
  await customer.focus();
  await page.keyboard.type("zzqqxx");
  const status = page.locator("#customer-status");
  await page.locator("#customer-status", { hasText: "No matches" }).waitFor();
  await page.keyboard.press("Escape");
  assertEq(await customer.getAttribute("aria-expanded"), "false", "Escape closes");
  await page.keyboard.press("Escape");
  assertEq(await customer.inputValue(), "", "second Escape clears");
  // A field the server does not know: the error from the server is shown, not JSON.
  await page.evaluate(async () => {
    const input = Object.assign(document.createElement("input"), { id: "missing" });
    input.dataset.extdataField = "no_such_field";
    input.setAttribute("aria-label", "Missing");
    document.getElementById("ticket").append(input);
    (await import("/widget.js")).enhance();
  });
  const missing = page.getByRole("combobox", { name: "Missing" });
  await missing.focus();
  await page.keyboard.press("ArrowDown");
  await page.locator("#missing-status.extdata-error").waitFor();
  const text = await page.locator("#missing-status").innerText();
  assert(/no_such_field|not found|no field/i.test(text) && !text.includes("{"), `error state: ${text}`);
  void status;
});

// Holds the answers of one field's options requests until released: makes "while loading"
// and "an answer that arrives after focus left" deterministic.
async function holdOptions(field) {
  let release, arrived;
  const released = new Promise((resolve) => (release = resolve));
  const firstRequest = new Promise((resolve) => (arrived = resolve));
  const pattern = `**/api/v1/fields/${field}/options*`;
  const handler = async (route) => {
    arrived();
    await released;
    // The page may have given up on the request meanwhile (an aborted query).
    await route.continue().catch(() => {});
  };
  await page.route(pattern, handler);
  return {
    async waitForRequest() {
      let timer;
      const timeout = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no options request for ${field}`)), TIMEOUT)));
      await Promise.race([firstRequest, timeout]).finally(() => clearTimeout(timer));
    },
    async release() {
      release();
      await page.unroute(pattern, handler);
    },
  };
}

const submittedText = () => page.locator("#submitted").innerText();
const hiddenCustomer = () => page.locator('#ticket input[type=hidden][name=customer]').inputValue();

await step("widget: Enter with nothing highlighted neither chooses nor submits", async () => {
  await page.goto(BASE + "/demo/form");
  const customer = page.getByRole("combobox", { name: "Customer" });
  await customer.focus();
  await page.keyboard.type("nordlicht");
  await page.getByRole("listbox", { name: "Customer" }).getByRole("option", { name: /Nordlicht/ }).waitFor();
  await page.keyboard.press("Enter");
  assertEq(await submittedText(), "(submit the form)", "the form was not submitted");
  assertEq(await hiddenCustomer(), "", "nothing chosen");
  assertEq(await customer.getAttribute("aria-expanded"), "true", "the list stays open");
});

await step("widget: a form with typed but unchosen text is not submitted", async () => {
  const customer = page.getByRole("combobox", { name: "Customer" });
  await page.getByRole("button", { name: "Create ticket" }).click();
  assertEq(await submittedText(), "(submit the form)", "submission blocked");
  assertEq(await customer.getAttribute("aria-invalid"), "true", "marked invalid");
  assertEq(await customer.getAttribute("aria-expanded"), "false", "the list closes so the message shows");
  const status = await page.locator("#customer-status").innerText();
  assert(/not one of the options/.test(status), `the status says why: ${status}`);
  await shot("widget-unchosen-text");
});

await step("widget: Enter while options load does nothing", async () => {
  await page.goto(BASE + "/demo/form");
  const customer = page.getByRole("combobox", { name: "Customer" });
  const hold = await holdOptions("customer");
  await customer.focus();
  await page.keyboard.type("mu");
  await hold.waitForRequest();
  await page.keyboard.press("Enter");
  assertEq(await submittedText(), "(submit the form)", "not submitted while loading");
  assertEq(await hiddenCustomer(), "", "nothing chosen while loading");
  await hold.release();
  await page.getByRole("listbox", { name: "Customer" }).getByRole("option").first().waitFor();
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("Enter");
  assert((await hiddenCustomer()) !== "", "once loaded, ArrowDown + Enter chooses");
});

await step("widget: Escape restores the option chosen last", async () => {
  const customer = page.getByRole("combobox", { name: "Customer" });
  const chosenLabel = await customer.inputValue();
  const chosenValue = await hiddenCustomer();
  await customer.focus();
  await page.keyboard.press("Control+A");
  await page.keyboard.type("xyz");
  assertEq(await hiddenCustomer(), "", "typing over the choice clears the value");
  await page.keyboard.press("Escape");
  assertEq(await customer.inputValue(), chosenLabel, "label restored");
  assertEq(await hiddenCustomer(), chosenValue, "value restored");
  assertEq(await customer.getAttribute("aria-invalid"), null, "valid again");
});

await step("widget: an answer arriving after Tab does not reopen the list", async () => {
  const customer = page.getByRole("combobox", { name: "Customer" });
  const country = page.getByRole("combobox", { name: "Country" });
  const hold = await holdOptions("customer");
  await customer.focus();
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Backspace");
  await page.keyboard.press("ArrowDown");
  await hold.waitForRequest();
  await page.keyboard.press("Tab");
  assert(await country.evaluate((el) => el === document.activeElement), "focus moved to Country");
  // Settled: answered, or failed because the widget aborted it.
  const settled = new Promise((resolve) => {
    const done = (r) => r.url().includes("/fields/customer/options") && resolve();
    page.on("requestfinished", done);
    page.on("requestfailed", done);
  });
  await hold.release();
  // The widget aborted its query on blur, so Chromium may report nothing more for it: wait for
  // the held request to settle or, at the latest, for one more round trip to the server.
  await Promise.race([settled, page.evaluate(() => fetch("/healthz").then((r) => r.text()))]);
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0))));
  assertEq(await customer.getAttribute("aria-expanded"), "false", "the customer list stays closed");
  assert(await page.getByRole("listbox", { name: "Customer" }).isHidden(), "listbox hidden");
  await shot("widget-tab-away");
});

await step("demo form: any field can be tried with the field picker", async () => {
  await page.goto(`${BASE}/demo/form?field=city&context=country`);
  const country = page.getByLabel("country", { exact: true });
  await country.waitFor();
  await country.fill("Germany");
  const city = page.getByRole("combobox", { name: "city", exact: true });
  await city.focus();
  await page.keyboard.type("ber");
  await page.getByRole("listbox", { name: "city", exact: true }).getByRole("option", { name: /Berlin/ }).waitFor();
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("Enter");
  await page.locator("#try-form").getByRole("button", { name: "Submit" }).click();
  const submitted = JSON.parse(await page.locator("#try-submitted").innerText());
  assertEq(submitted.country, "Germany", "context submitted");
  assert(submitted.city, `the chosen city's value is submitted: ${JSON.stringify(submitted)}`);
  await shot("demo-form-picker");
});

await step("no JavaScript errors in the console", async () => {
  // 4xx answers the tests provoke on purpose are logged by Chromium as failed loads.
  const real = consoleErrors.filter((e) => !/Failed to load resource/.test(e));
  assert(real.length === 0, real.join("\n"));
});

await context.close();
rmSync(userDataDir, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
