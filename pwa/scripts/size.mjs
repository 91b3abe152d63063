// Prints the first load of the app, gzipped: index.html plus every script, style sheet and
// module preload it references (what a phone downloads before the first screen shows).
// Fails the build when it is 100 KB or more.
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const dist = new URL('../dist/', import.meta.url);
const html = readFileSync(new URL('index.html', dist), 'utf8');
const refs = [...html.matchAll(/(?:src|href)="\/app\/([^"]+\.(?:js|css))"/g)].map((m) => m[1]);
const files = ['index.html', ...new Set(refs)];
let raw = 0, gz = 0;
const rows = files.map((f) => {
  const body = readFileSync(new URL(f, dist));
  const z = gzipSync(body, { level: 9 }).length;
  raw += body.length; gz += z;
  return { file: f, bytes: body.length, gzip: z };
});
const report = { files: rows, total_bytes: raw, total_gzip: gz, budget_gzip: 100 * 1024 };
writeFileSync(new URL('size.json', dist), JSON.stringify(report, null, 2));
for (const r of rows) console.log(`${r.file.padEnd(40)} ${String(r.bytes).padStart(8)} B  ${String(r.gzip).padStart(7)} B gz`);
console.log(`first load: ${(gz / 1024).toFixed(1)} KB gzipped (${(raw / 1024).toFixed(1)} KB raw), budget 100 KB`);
if (gz >= report.budget_gzip) {
  console.error('the first load is over budget');
  process.exit(1);
}
