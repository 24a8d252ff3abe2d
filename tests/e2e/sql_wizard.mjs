// The wizard's SQL explorer in Debian's Chromium (playwright-core), run by
// tests/integration/e2e_sql_wizard.sh against `extdata serve` with an SQLite database under its
// files root. Env: EXTDATA_URL, EXTDATA_ADMIN_TOKEN, DB_PATH, ARTIFACTS_DIR, CHROMIUM.
import { createRequire } from "node:module";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const require = createRequire(new URL("../node/package.json", import.meta.url));
const { chromium } = require("playwright-core");

const BASE = process.env.EXTDATA_URL.replace(/\/+$/, "");
const TOKEN = process.env.EXTDATA_ADMIN_TOKEN;
const DB_PATH = process.env.DB_PATH;
const ARTIFACTS = process.env.ARTIFACTS_DIR || "artifacts/e2e";
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const SOURCE = "crm-kunden";

function assert(cond, message) {
  if (!cond) throw new Error(message);
}
function assertEq(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

mkdirSync(ARTIFACTS, { recursive: true });
const userDataDir = mkdtempSync(join(tmpdir(), "extdata-e2e-sql-chromium-"));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: CHROMIUM,
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  viewport: { width: 1280, height: 900 },
});
context.setDefaultTimeout(15000);
const page = context.pages()[0] || (await context.newPage());
const consoleErrors = [];
page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
page.on("pageerror", (e) => consoleErrors.push(String(e)));
// What the browser sent to the explorer's routes, to check the spec went as typed.
const sent = [];
page.on("request", (r) => {
  if (new URL(r.url()).pathname.startsWith("/api/v1/draft/sql/")) sent.push({ path: new URL(r.url()).pathname, body: JSON.parse(r.postData() || "{}") });
});

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
    await page.screenshot({ path: join(ARTIFACTS, `FAILED-sql-${safe}.png`), fullPage: true }).catch(() => {});
  }
}
async function api(path) {
  const res = await fetch(BASE + path, { headers: { Authorization: "Bearer " + TOKEN } });
  return { status: res.status, body: await res.json() };
}
const wizard = (name) => page.locator(`form.card [name="${name}"]`);

await step("the sql form offers Find tables, which lists the database's tables and views", async () => {
  await page.goto(BASE + "/");
  await page.getByLabel("Admin API token").fill(TOKEN);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Sources", level: 1 }).waitFor();
  await page.goto(BASE + "/#/sources/new");
  await page.getByRole("radio", { name: /SQL/ }).first().check();
  await page.locator('form.card [name="name"]').fill(SOURCE);
  await wizard("driver").selectOption("sqlite");
  await wizard("path").fill(DB_PATH);
  assertEq(await page.locator("#sql-table").isDisabled(), true, "no table to choose before looking");
  await page.getByRole("button", { name: "Find tables" }).click();
  await page.locator("#sql-tables-result").getByText("3 tables and views").waitFor();
  const options = await page.locator("#sql-table option").allTextContents();
  assertEq(JSON.stringify(options), JSON.stringify(["Choose one of 3 tables", "Kunden", "german (view)", "orders"]), "the table choices");
  const first = sent.find((s) => s.path === "/api/v1/draft/sql/tables");
  assert(first, "POST /api/v1/draft/sql/tables was sent");
  assertEq(first.body.source.driver, "sqlite", "the spec as typed: driver");
  assertEq(first.body.source.path, DB_PATH, "the spec as typed: path");
  assertEq(first.body.source.query, undefined, "no query typed yet (the server fills a placeholder)");
});

await step("choosing a table lists its columns with types, and ticking columns writes the query with quoted names", async () => {
  await page.locator("#sql-table").selectOption("Kunden");
  const box = page.locator("fieldset.columns", { hasText: "Columns of Kunden" });
  await box.waitFor();
  const labels = await box.locator("label code").allTextContents();
  assertEq(JSON.stringify(labels), JSON.stringify(["id", "Name", "Straße", "land", "last order"]), "columns in table order");
  assert(/TEXT · nullable/.test(await box.locator("label", { hasText: "Straße" }).innerText()), "type and nullability shown");
  const preview = page.locator("#sql-query-preview");
  // SQLite compares names without regard to case: only the accent and the space need quotes.
  assertEq(await preview.innerText(), 'SELECT id, Name, "Straße", land, "last order" FROM Kunden', "every column when none is ticked");
  await box.getByLabel("id").check();
  await box.getByLabel("Name").check();
  await box.getByLabel("Straße").check();
  assertEq(await preview.innerText(), 'SELECT id, Name, "Straße" FROM Kunden', "the ticked columns");
  const cols = sent.find((s) => s.path === "/api/v1/draft/sql/columns");
  assertEq(cols.body.table, "Kunden", "the table sent");
});

await step("Use this query fills the query setting, and Save and test reads the rows", async () => {
  await page.getByRole("button", { name: "Use this query" }).click();
  assertEq(await wizard("query").inputValue(), 'SELECT id, Name, "Straße" FROM Kunden', "query filled in");
  await page.locator("fieldset.sql-explorer").scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(ARTIFACTS, "sql-wizard.png"), fullPage: true });
  await page.getByRole("button", { name: "Save and test" }).click();
  const result = page.locator("#save-result .test-result");
  await result.waitFor({ timeout: 30000 });
  assertEq(await result.getAttribute("data-ok"), "true", "test result ok");
  const preview = await page.locator("#save-result .record-preview").innerText();
  for (const text of ["Zoë Müller", "Hauptstraße 5", "Åsa Öberg", "José Núñez"]) assert(preview.includes(text), `record preview shows ${text}: ${preview}`);
  const steps = page.locator("#save-result .steps tbody tr");
  assertEq(JSON.stringify(await steps.evaluateAll((rows) => rows.map((r) => r.className))), JSON.stringify(["good", "good"]), "connect and query shown as good");
  assert(/3 rows/.test(await steps.nth(1).innerText()), `the query step says how many rows: ${await steps.nth(1).innerText()}`);
  await page.screenshot({ path: join(ARTIFACTS, "sql-wizard-tested.png"), fullPage: true });
  const saved = await api(`/api/v1/sources/${SOURCE}`);
  assertEq(saved.body.query, 'SELECT id, Name, "Straße" FROM Kunden', "the stored query");
});

await step("a saved sql source is explored by GET …/sql/tables and …/sql/columns?table=", async () => {
  const tables = await api(`/api/v1/sources/${SOURCE}/sql/tables`);
  assertEq(tables.status, 200, "tables status");
  assertEq(tables.body.tables.map((t) => t.name).join(","), "Kunden,german,orders", "tables");
  const table = await api(`/api/v1/sources/${SOURCE}/sql/columns?table=orders`);
  assertEq(table.status, 200, "columns status");
  assertEq(table.body.query, "SELECT id, customer, total FROM orders", "plain names stay bare");
  const missing = await api(`/api/v1/sources/${SOURCE}/sql/columns`);
  assertEq(missing.status, 400, "no table → 400");
  assertEq(missing.body.error.code, "sql.bad_table", "no table → sql.bad_table");
  const unknown = await api(`/api/v1/sources/${SOURCE}/sql/columns?table=nope`);
  assertEq(unknown.body.error.code, "sql.unknown_relation", "unknown table → sql.unknown_relation");
});

await step("a connection error in Find tables is shown with its hint, and no table stays choosable", async () => {
  await page.goto(BASE + "/#/sources/new");
  await page.getByRole("radio", { name: /SQL/ }).first().check();
  await wizard("driver").selectOption("sqlite");
  await wizard("path").fill("/etc/passwd");
  await page.getByRole("button", { name: "Find tables" }).click();
  const alert = page.locator("#sql-tables-result [role=alert], #sql-tables-result .notice");
  await alert.first().waitFor();
  const text = await alert.first().innerText();
  assert(/root/i.test(text), `the error names the files root: ${text}`);
  assertEq(await page.locator("#sql-table").isDisabled(), true, "no table to choose after an error");
  await page.screenshot({ path: join(ARTIFACTS, "sql-wizard-error.png"), fullPage: true });
});

await step("no JavaScript errors in the console", async () => {
  const real = consoleErrors.filter((e) => !/Failed to load resource/.test(e));
  assert(real.length === 0, real.join("\n"));
});

await context.close();
rmSync(userDataDir, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
