// Shared measuring helpers for bench/*.bench.mjs.
import { spawnSync } from 'node:child_process';
import { Bench } from 'tinybench';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const TIME_MS = Number(process.env.BENCH_TIME_MS ?? 300);

function opsOf(task) {
  const r = task.result;
  if (!r || (r.state !== 'completed' && r.state !== 'aborted-with-statistics')) {
    throw new Error(`bench task ${task.name} did not complete: ${r?.state} ${r?.error ?? ''}`);
  }
  return 1000 / r.period;
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Times `subject` and `baseline` in alternating rounds; returns median ops/s of
 * each and the median of the per-round ratios subject/baseline.
 */
export async function measurePair({ name, subject, baseline }) {
  const ratios = [];
  const subj = [];
  const base = [];
  for (let round = 0; round < ROUNDS; round++) {
    const bench = new Bench({ time: TIME_MS, warmupTime: 50 });
    const order = round % 2 === 0 ? ['s', 'b'] : ['b', 's'];
    for (const which of order) bench.add(`${name}:${which}`, which === 's' ? subject : baseline);
    await bench.run();
    const s = opsOf(bench.getTask(`${name}:s`));
    const b = opsOf(bench.getTask(`${name}:b`));
    subj.push(s);
    base.push(b);
    ratios.push(s / b);
  }
  return { opsPerSec: median(subj), baselineOpsPerSec: median(base), ratio: median(ratios) };
}

/**
 * Times a whole `node` process running `script` against one running `baselineScript`
 * (e.g. `0`), in alternating runs. Returns imports per second and extra fields
 * with the median wall time of each and their difference in ms.
 */
export function measureProcess({ script, baselineScript = '0', runs = 9, cwd }) {
  const time = (code) => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, ['-e', code], { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    if (r.status !== 0) throw new Error(`node -e ${code} failed: ${r.stderr}`);
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  time(script);
  time(baselineScript);
  const subj = [];
  const base = [];
  for (let i = 0; i < runs; i++) {
    if (i % 2) {
      subj.push(time(script));
      base.push(time(baselineScript));
    } else {
      base.push(time(baselineScript));
      subj.push(time(script));
    }
  }
  const s = median(subj);
  const b = median(base);
  return {
    opsPerSec: 1000 / s,
    baselineOpsPerSec: 1000 / b,
    ratio: b / s,
    extra: { ms: Math.round(s * 10) / 10, baselineMs: Math.round(b * 10) / 10, addedMs: Math.round((s - b) * 10) / 10 },
  };
}
