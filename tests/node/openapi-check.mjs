// Checks extdata's OpenAPI document with an independent validator and recorded answers
// against its schemas:
//   node openapi-check.mjs DOC.json [RECORDS.jsonl]
// DOC.json is validated by @seriousme/openapi-schema-validator (OpenAPI 3.1 schema). Each
// line of RECORDS.jsonl is {"method","path" (the document's path template),"status","body"}:
// the body is validated with ajv (JSON Schema 2020-12, the dialect of OpenAPI 3.1) against the
// schema the document gives for that operation and status. Prints PASS/FAIL lines and
// "N passed, M failed"; exits 1 on any failure.
import fs from "node:fs";
import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const [docFile, recordsFile] = process.argv.slice(2);
const doc = JSON.parse(fs.readFileSync(docFile, "utf8"));
let passed = 0, failed = 0;
const pass = (what) => { passed++; console.log(`PASS  ${what}`); };
const fail = (what, why) => { failed++; console.log(`FAIL  ${what}\n      ${why}`); };

const checked = await new Validator().validate(doc);
if (checked.valid) pass(`the document is valid OpenAPI ${doc.openapi} (@seriousme/openapi-schema-validator)`);
else fail("the document is valid OpenAPI", JSON.stringify(checked.errors).slice(0, 2000));

// The document as one schema resource, so "#/components/..." references resolve.
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(doc, "openapi.json");
const pointer = (parts) => parts.map((p) => String(p).replaceAll("~", "~0").replaceAll("/", "~1")).join("/");
const resolve = (node) => {
  while (node && node.$ref) node = node.$ref.slice(2).split("/").reduce((n, k) => n?.[k.replaceAll("~1", "/").replaceAll("~0", "~")], doc);
  return node;
};

for (const line of recordsFile ? fs.readFileSync(recordsFile, "utf8").split("\n").filter(Boolean) : []) {
  const r = JSON.parse(line);
  const what = `${r.method} ${r.path} → ${r.status}`;
  const op = doc.paths?.[r.path]?.[r.method.toLowerCase()];
  if (!op) { fail(what, "no such operation in the document"); continue; }
  const response = op.responses?.[String(r.status)];
  if (!response) { fail(what, `the document lists no ${r.status} answer`); continue; }
  const resolved = resolve(response);
  if (!resolved.content?.["application/json"]) { pass(`${what} (no JSON body described)`); continue; }
  // A reference into the document, so the schema's own references keep their base.
  const base = response.$ref ? response.$ref.slice(1) : `/paths/${pointer([r.path, r.method.toLowerCase(), "responses", String(r.status)])}`;
  const validate = ajv.getSchema(`openapi.json#${base}/content/application~1json/schema`);
  if (!validate) { fail(what, "ajv could not resolve the schema"); continue; }
  if (validate(r.body)) pass(what);
  else fail(what, ajv.errorsText(validate.errors) + " in " + JSON.stringify(r.body).slice(0, 300));
}
console.log(`\n${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
