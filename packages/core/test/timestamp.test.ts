import { describe, expect, it } from 'vitest';
import { assertTimestampWithin, fixedClock, PayArgumentError, PayReplayError, SeenIds } from '../src/index.js';

const now = 1_700_000_000;
const clock = fixedClock(now * 1000 + 999); // sub-second part is ignored

describe('assertTimestampWithin', () => {
  it('accepts timestamps within the window on both sides, inclusive, as text or number', () => {
    for (const ts of [now, now - 300, now + 300, `${now - 299}`, ` ${now} `]) expect(() => assertTimestampWithin(ts, clock)).not.toThrow();
    expect(() => assertTimestampWithin(now - 59, clock, 60)).not.toThrow();
  });

  it('rejects a stale timestamp (replay) and one from the future, saying by how much', () => {
    expect(() => assertTimestampWithin(now - 301, clock)).toThrow(PayReplayError);
    expect(() => assertTimestampWithin(now - 301, clock, 300, 'Wechatpay-Timestamp')).toThrow(
      '@pay/core: Wechatpay-Timestamp: 1699999699 is 301 s old; the window is ±300 s (stale or replayed message, or a wrong server clock)',
    );
    expect(() => assertTimestampWithin(now + 301, clock)).toThrow(/is 301 s in the future; the window is ±300 s/);
    expect(() => assertTimestampWithin(now - 61, clock, 60)).toThrow(/±60 s/);
    expect(() => assertTimestampWithin(1624523846, clock)).toThrow(PayReplayError);
  });

  it('rejects missing and malformed timestamps, hinting at milliseconds', () => {
    for (const bad of [undefined, '', '  ', 'abc', '1.5', '-1', '1e9', '0x10', '1234567890123456']) {
      expect(() => assertTimestampWithin(bad as never, clock), String(bad)).toThrow(PayReplayError);
    }
    expect(() => assertTimestampWithin(undefined, clock)).toThrow('@pay/core: timestamp: expected epoch seconds, got nothing');
    expect(() => assertTimestampWithin(String(now * 1000), clock)).toThrow(/\(milliseconds\? the value must be in seconds\)/);
  });
});

describe('SeenIds', () => {
  it('reports a repeat and remembers at most `capacity` ids, forgetting the oldest first', () => {
    const seen = new SeenIds(3);
    expect(seen.add('a')).toBe(true);
    expect(seen.add('a')).toBe(false);
    expect(seen.add('b')).toBe(true);
    expect(seen.add('c')).toBe(true);
    expect(seen.size).toBe(3);
    expect(seen.add('d')).toBe(true);
    expect(seen.size).toBe(3);
    expect(seen.has('a')).toBe(false);
    expect(seen.has('b')).toBe(true);
    expect(seen.add('a')).toBe(true); // forgotten, so new again
    expect(seen.has('b')).toBe(false);
  });

  it('stays bounded under many ids', () => {
    const seen = new SeenIds(1000);
    for (let i = 0; i < 50_000; i++) seen.add(`nonce-${i}`);
    expect(seen.size).toBe(1000);
    expect(seen.has('nonce-49999')).toBe(true);
    expect(seen.has('nonce-48999')).toBe(false);
    expect(new SeenIds().size).toBe(0);
  });

  it('refuses a capacity that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => new SeenIds(bad)).toThrow(PayArgumentError);
  });
});
