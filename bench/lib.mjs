// Shared measuring helpers for bench/*.bench.mjs.
import { spawnSync } from 'node:child_process';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const TIME_MS = Number(process.env.BENCH_TIME_MS ?? 300);

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Times `n` calls of `fn` (awaiting each when it is async), in nanoseconds. */
async function timeBatch(fn, n, isAsync) {
  const t0 = process.hrtime.bigint();
  if (isAsync) for (let i = 0; i < n; i++) await fn();
  else for (let i = 0; i < n; i++) fn();
  return Number(process.hrtime.bigint() - t0);
}

/**
 * Times `subject` and `baseline` against each other. Both run in short batches
 * (about 0.25 ms) interleaved as ABBA, for `BENCH_ROUNDS` × `BENCH_TIME_MS` ×
 * 2 in total. Each ABBA group gives one ratio (baseline time / subject time);
 * the median over all groups is reported, so a group hit by preemption on a
 * shared machine is an outlier that does not move the result. Ops/s are the
 * medians over the groups as well.
 */
export async function measurePair({ name, subject, baseline }) {
  const isAsync = [subject(), baseline()].some((r) => r && typeof r.then === 'function');
  if (isAsync) await Promise.all([subject(), baseline()]);
  for (let i = 0; i < 20; i++) {
    await timeBatch(subject, 5, isAsync);
    await timeBatch(baseline, 5, isAsync);
  }
  const probe = Math.max(await timeBatch(subject, 20, isAsync), await timeBatch(baseline, 20, isAsync)) / 20;
  const batch = Math.max(1, Math.round(250_000 / Math.max(probe, 1)));
  const ratios = [];
  const subj = [];
  const base = [];
  const until = process.hrtime.bigint() + BigInt(ROUNDS * TIME_MS * 2) * 1_000_000n;
  while (process.hrtime.bigint() < until || ratios.length < 15) {
    const s1 = await timeBatch(subject, batch, isAsync);
    const b1 = await timeBatch(baseline, batch, isAsync);
    const b2 = await timeBatch(baseline, batch, isAsync);
    const s2 = await timeBatch(subject, batch, isAsync);
    const s = (2 * batch * 1e9) / (s1 + s2);
    const b = (2 * batch * 1e9) / (b1 + b2);
    subj.push(s);
    base.push(b);
    ratios.push(s / b);
  }
  if (!ratios.every(Number.isFinite)) throw new Error(`bench task ${name} did not run`);
  return { opsPerSec: median(subj), baselineOpsPerSec: median(base), ratio: median(ratios), extra: { groups: ratios.length, batch } };
}

/**
 * Times a whole `node` process running `script` against one running `baselineScript`
 * (e.g. `0`), in pairs whose order alternates. Returns imports per second and extra
 * fields: the median wall time of each, `addedMs` (the median of the per-pair
 * differences: pairs run back to back, so machine load affects both alike), and
 * the same for the CPU time each child reports for itself (`cpuMs`, `addedCpuMs`).
 */
export function measureProcess({ script, baselineScript = '0', runs = Number(process.env.BENCH_PROCESS_RUNS ?? 15), cwd }) {
  // the child also reports its own CPU time (user + system), which machine load barely changes
  const time = (code, into) => {
    const probe = `;process.on('exit',()=>{const u=process.cpuUsage();process.stdout.write(String((u.user+u.system)/1000))})`;
    const t0 = process.hrtime.bigint();
    const r = spawnSync(process.execPath, ['-e', `${code}${probe}`], { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`node -e ${code} failed: ${r.stderr}`);
    const wall = Number(process.hrtime.bigint() - t0) / 1e6;
    if (into) into.push(Number(r.stdout));
    return wall;
  };
  time(script);
  time(baselineScript);
  const subj = [];
  const base = [];
  const diffs = [];
  const subjCpu = [];
  const baseCpu = [];
  for (let i = 0; i < runs; i++) {
    let s;
    let b;
    if (i % 2) {
      s = time(script, subjCpu);
      b = time(baselineScript, baseCpu);
    } else {
      b = time(baselineScript, baseCpu);
      s = time(script, subjCpu);
    }
    subj.push(s);
    base.push(b);
    diffs.push(s - b);
  }
  const s = median(subj);
  const b = median(base);
  return {
    opsPerSec: 1000 / s,
    baselineOpsPerSec: 1000 / b,
    ratio: b / s,
    extra: {
      ms: Math.round(s * 10) / 10,
      baselineMs: Math.round(b * 10) / 10,
      addedMs: Math.round(median(diffs) * 10) / 10,
      cpuMs: Math.round(median(subjCpu) * 10) / 10,
      baselineCpuMs: Math.round(median(baseCpu) * 10) / 10,
      addedCpuMs: Math.round(median(subjCpu.map((c, i) => c - (baseCpu[i] ?? 0))) * 10) / 10,
    },
  };
}
