// The same extraction with the npm package jsonpath-plus: records `$.value[*]`, then five
// column paths per record. File reading is not timed; JSON.parse is timed separately.
// usage: node bench/extraction-jsonpath-plus.js FILE
// Prints {"bytes":..,"records":..,"values":..,"parse_ms":..,"query_ms":..,"total_ms":..}
'use strict';
const fs = require('fs');
const path = require('path');
const { JSONPath } = require(path.join(__dirname, '..', 'tests', 'node', 'node_modules', 'jsonpath-plus'));

const text = fs.readFileSync(process.argv[2], 'utf8');
const bytes = Buffer.byteLength(text, 'utf8');
const columns = ['$.id', '$.fields.Title', '$.fields.Country', '$.fields.City', '$.fields.Revenue'];

function run() {
  let start = process.hrtime.bigint();
  const json = JSON.parse(text);
  const parseMs = Number(process.hrtime.bigint() - start) / 1e6;
  start = process.hrtime.bigint();
  const records = JSONPath({ path: '$.value[*]', json });
  let values = 0;
  const rows = new Array(records.length);
  for (let r = 0; r < records.length; r++) {
    const row = new Array(columns.length);
    for (let c = 0; c < columns.length; c++) {
      const found = JSONPath({ path: columns[c], json: records[r], wrap: true });
      if (found.length > 0) {
        row[c] = found[0];
        values++;
      }
    }
    rows[r] = row;
  }
  const queryMs = Number(process.hrtime.bigint() - start) / 1e6;
  return { bytes, records: records.length, values, parse_ms: parseMs, query_ms: queryMs, total_ms: parseMs + queryMs };
}

run();  // warm-up (JIT)
console.log(JSON.stringify(run()));
