/**
 * Replay protection helpers: a two-sided timestamp window against an injected
 * clock, and a bounded set of message ids already seen.
 *
 * @module
 */
import type { Clock } from './crypto.js';
import { PayArgumentError, PayReplayError } from './errors.js';

/**
 * Checks that a timestamp lies within `windowSeconds` of the clock, on both sides.
 *
 * @param timestampSeconds - the message's timestamp in epoch seconds (as text or number)
 * @param clock - the injected clock
 * @param windowSeconds - allowed distance, 300 by default (WeChat Pay's ±5 minutes)
 * @param what - name used in the error, e.g. `Wechatpay-Timestamp`
 * @throws PayReplayError when it is missing, malformed, too old or in the future
 */
export function assertTimestampWithin(
  timestampSeconds: string | number | undefined,
  clock: Clock,
  windowSeconds = 300,
  what = 'timestamp',
): void {
  const text = timestampSeconds === undefined ? '' : String(timestampSeconds).trim();
  if (!/^\d{1,12}$/.test(text)) {
    throw new PayReplayError(
      `@pay/core: ${what}: expected epoch seconds, got ${text === '' ? 'nothing' : JSON.stringify(text.slice(0, 20))}${/^\d{13}$/.test(text) ? ' (milliseconds? the value must be in seconds)' : ''}`,
    );
  }
  const ts = Number(text);
  const now = Math.floor(clock() / 1000);
  const skew = ts - now;
  if (skew < -windowSeconds) {
    throw new PayReplayError(
      `@pay/core: ${what}: ${ts} is ${-skew} s old; the window is ±${windowSeconds} s (stale or replayed message, or a wrong server clock)`,
    );
  }
  if (skew > windowSeconds) {
    throw new PayReplayError(`@pay/core: ${what}: ${ts} is ${skew} s in the future; the window is ±${windowSeconds} s`);
  }
}

/**
 * A bounded set of ids seen recently (first in, first out), for rejecting replays
 * of one-time values such as nonces within a process.
 */
export class SeenIds {
  private readonly ids = new Set<string>();
  /**
   * @param capacity - how many ids to remember (default 10 000)
   * @throws PayArgumentError when the capacity is not a positive integer
   */
  constructor(private readonly capacity = 10_000) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new PayArgumentError(`@pay/core: SeenIds: expected a positive integer capacity, got ${String(capacity)}`);
    }
  }

  /** How many ids are remembered now (at most the capacity). */
  get size(): number {
    return this.ids.size;
  }

  /** Records `id`; returns false if it was already there. */
  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.capacity) {
      const first = this.ids.values().next().value as string;
      this.ids.delete(first);
    }
    return true;
  }

  /** True when `id` was seen. */
  has(id: string): boolean {
    return this.ids.has(id);
  }
}
