/**
 * Importing @pay/core must not load node-forge or axios: they are required on
 * first use only (a PKCS#12 / PKCS#1 v1.5 decrypt, the first HTTP call). The
 * sources are bundled exactly as `pnpm build` does (tsup, ESM and CJS) into a
 * scratch folder, then fresh `node` processes import them and list what is in
 * the module cache. The second half of each check proves the probe works: after
 * the first use, the dependency is there.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '..');
let out = '';

beforeAll(async () => {
  // inside the package so that node-forge and axios resolve from packages/core/node_modules
  const cache = join(pkg, 'node_modules', '.cache');
  mkdirSync(cache, { recursive: true });
  out = mkdtempSync(join(cache, 'import-cost-'));
  const { build } = await import('tsup');
  await build({
    entry: { index: join(pkg, 'src', 'index.ts') },
    format: ['esm', 'cjs'],
    outDir: out,
    shims: true,
    platform: 'node',
    target: 'node20',
    dts: false,
    sourcemap: false,
    silent: true,
    config: false,
    external: ['node-forge', 'axios'],
  });
}, 60_000);

afterAll(() => {
  if (out) rmSync(out, { recursive: true, force: true });
});

/** Runs `body` in a fresh node process after importing the bundle; returns the heavy modules in the cache before and after. */
function probe(kind: 'esm' | 'cjs', body: string): { before: string[]; after: string[] } {
  const heavy =
    'Object.keys(cache).filter((k) => /[\\\\/]node_modules[\\\\/](node-forge|axios)[\\\\/]/.test(k)).map((k) => k.match(/(node-forge|axios)/)[1])';
  const load =
    kind === 'cjs'
      ? `const core = require(${JSON.stringify(join(out, 'index.cjs'))}); const cache = require.cache;`
      : `const core = await import(${JSON.stringify(pathToFileURL(join(out, 'index.js')).href)}); const { createRequire } = await import('node:module'); const cache = createRequire(import.meta.url).cache;`;
  const script = `${kind === 'cjs' ? '(async () => {' : ''}
    ${load}
    const before = [...new Set(${heavy})];
    ${body}
    const after = [...new Set(${heavy})];
    console.log(JSON.stringify({ before, after }));
  ${kind === 'cjs' ? '})();' : ''}`;
  const args = kind === 'esm' ? ['--input-type=module', '-e', script] : ['-e', script];
  const r = spawnSync(process.execPath, args, { cwd: pkg, encoding: 'utf8', timeout: 30_000 });
  expect(r.stderr, 'child stderr').toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string);
}

const useForge = `
  const { generateKeyPairSync } = await import('node:crypto');
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const c = core.rsaPkcs1Encrypt(publicKey, 'x');
  if (core.rsaPkcs1Decrypt(privateKey, c).toString() !== 'x') throw new Error('decrypt');`;
const useAxios = `
  await core.createHttpTransport({ timeoutMs: 2000 }).request({ method: 'GET', url: 'http://127.0.0.1:9/' }).catch((e) => { if (!(e instanceof core.PayNetworkError)) throw e; });`;
const hotPath = `
  const { generateKeyPairSync } = await import('node:crypto');
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const pem = publicKey.export({ format: 'pem', type: 'spki' });
  const key = core.loadPublicKey(pem);
  const sig = core.rsaSign('sha256', core.loadPrivateKey(privateKey.export({ format: 'pem', type: 'pkcs8' })), 'a=1');
  if (!core.rsaVerify('sha256', key, 'a=1', sig)) throw new Error('verify');
  core.canonicalString({ a: '1' }); core.formDecode('a=1'); core.md5Hex('x'); core.aes256GcmEncrypt('0'.repeat(32), 'n', 'x');
  await core.fromWebRequest(new Request('http://127.0.0.1/', { method: 'POST', body: 'a=1' }));`;

describe('import cost: node-forge and axios are loaded on first use only', () => {
  for (const kind of ['esm', 'cjs'] as const) {
    it(`${kind}: importing @pay/core loads neither; a PKCS#1 v1.5 decrypt then loads node-forge`, () => {
      const { before, after } = probe(kind, useForge);
      expect(before).toEqual([]);
      expect(after).toEqual(['node-forge']);
    });

    it(`${kind}: the first HTTP call loads axios`, () => {
      const { before, after } = probe(kind, useAxios);
      expect(before).toEqual([]);
      expect(after).toEqual(['axios']);
    });

    it(`${kind}: the verification hot path (keys, RSA, canonical strings, AES, notify I/O) loads neither`, () => {
      const { before, after } = probe(kind, hotPath);
      expect(before).toEqual([]);
      expect(after).toEqual([]);
    });
  }
});
