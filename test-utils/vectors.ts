/**
 * Locates the shared known-answer vectors (`../shared/vectors` beside the
 * checkout, or `$PAY_VECTORS_DIR`) for tests. The files are read in place and
 * never copied into the repository. Suites that need them are skipped, with a
 * message saying why, when the folder is absent.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));

function locate(): string | undefined {
  const fromEnv = process.env.PAY_VECTORS_DIR;
  if (fromEnv) return existsSync(fromEnv) ? resolve(fromEnv) : undefined;
  // test-utils/ -> repo root -> ../shared/vectors
  const beside = resolve(here, '..', '..', 'shared', 'vectors');
  return existsSync(beside) ? beside : undefined;
}

/** Absolute path of the vectors folder, or undefined when it is absent. */
export const vectorsDir: string | undefined = locate();

/** Why vector suites are skipped (empty when they run). */
export const vectorsSkipReason = vectorsDir
  ? ''
  : 'known-answer vectors not found: set PAY_VECTORS_DIR or place shared/vectors beside the checkout (CI always has them)';

/** Path of a file inside the vectors folder. Only call inside {@link describeVectors}. */
export function vectorPath(...parts: string[]): string {
  if (!vectorsDir) throw new Error(vectorsSkipReason);
  return join(vectorsDir, ...parts);
}

/** The bytes of a vector file. */
export function readVector(...parts: string[]): Buffer {
  return readFileSync(vectorPath(...parts));
}

/** A vector file as UTF-8 text. */
export function readVectorText(...parts: string[]): string {
  return readVector(...parts).toString('utf8');
}

/** A vector file parsed as JSON. */
export function readVectorJson<T = any>(...parts: string[]): T {
  return JSON.parse(readVectorText(...parts)) as T;
}

/**
 * A `describe` that runs only when the vectors are present, and is reported as
 * skipped with the reason otherwise.
 */
export function describeVectors(name: string, fn: () => void): void {
  if (vectorsDir) {
    describe(`${name} [vectors]`, fn);
    return;
  }
  // Without the vectors the suite's body is never run (it may read vector files while
  // collecting): one skipped test carries the reason instead.
  describe.skipIf(true)(`${name} [skipped: ${vectorsSkipReason}]`, () => {
    it.skipIf(true)(vectorsSkipReason, () => {});
  });
}
