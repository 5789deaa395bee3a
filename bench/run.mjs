// Runs every bench/*.bench.mjs against the built packages (dist/) and writes
// bench/results/latest.json. Each case is measured against its raw node:crypto
// baseline in the same process and the same run: both are timed in alternating
// rounds and the median ratio is reported, which keeps noise on a shared
// 2-core machine out of the comparison.
//
// A bench file exports `cases()` returning (or resolving to) an array of
//   { name, subject: () => unknown, baseline: () => unknown, minRatio?, note? }
// or { name, kind: 'command', ... } objects produced by the helpers in lib.mjs.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { measurePair } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.mjs'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

const results = [];
let failed = 0;
for (const file of files) {
  const mod = await import(pathToFileURL(join(here, file)).href);
  const cases = await mod.cases();
  for (const c of cases) {
    const r = c.measure ? await c.measure() : await measurePair(c);
    const entry = {
      file,
      name: c.name,
      opsPerSec: Math.round(r.opsPerSec * 10) / 10,
      baselineOpsPerSec: Math.round(r.baselineOpsPerSec * 10) / 10,
      ratio: Math.round(r.ratio * 1000) / 1000,
      ...(c.minRatio !== undefined ? { minRatio: c.minRatio, pass: r.ratio >= c.minRatio } : {}),
      ...(r.extra ?? {}),
      ...(c.note ? { note: c.note } : {}),
    };
    if (entry.pass === false) failed++;
    results.push(entry);
    const mark = entry.pass === undefined ? '    ' : entry.pass ? 'ok  ' : 'LOW ';
    console.log(
      `${mark}${c.name.padEnd(58)} ${String(entry.opsPerSec).padStart(12)} ops/s  baseline ${String(entry.baselineOpsPerSec).padStart(12)}  ratio ${entry.ratio.toFixed(3)}${c.minRatio !== undefined ? ` (min ${c.minRatio})` : ''}${entry.addedMs !== undefined ? `  wall ${entry.ms} vs ${entry.baselineMs} ms: +${entry.addedMs} ms; cpu +${entry.addedCpuMs} ms` : ''}${entry.skipped ? `  (${entry.skipped})` : ''}`,
    );
  }
}

const out = join(here, 'results');
mkdirSync(out, { recursive: true });
// A run of some bench files keeps the entries of the others from the previous report.
let kept = [];
if (only.length > 0) {
  try {
    const previous = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8'));
    kept = (previous.results ?? []).filter((r) => !files.includes(r.file));
  } catch {
    kept = [];
  }
}
const report = {
  node: process.version,
  platform: `${process.platform}-${process.arch}`,
  date: new Date().toISOString(),
  results: [...kept, ...results],
};
writeFileSync(join(out, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
console.log(
  `\nwrote bench/results/latest.json (${results.length} cases${kept.length ? ` + ${kept.length} kept from earlier runs of other files` : ''}${failed ? `, ${failed} below their minimum ratio` : ''})`,
);
process.exitCode = failed ? 1 : 0;
