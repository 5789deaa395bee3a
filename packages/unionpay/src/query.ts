/**
 * Interpreting `queryTrans` answers and the schedule of follow-up queries.
 *
 * `respCode` says whether the query itself worked; only then does
 * `origRespCode` say what became of the transaction asked about:
 *
 * | respCode | origRespCode | state |
 * | --- | --- | --- |
 * | `00` | `00` | `success` (a consume: paid) |
 * | `00` | `03` `04` `05` | `processing`: query again later |
 * | `00` | anything else | `failed` |
 * | `34` | – | `not_found` (not paid yet, or not arrived yet: query again later) |
 * | `03` `04` `05` | – | `processing` (the query itself timed out) |
 * | others | – | the query failed: an error is thrown |
 *
 * UnionPay's schedule (its SDK documentation): after front (browser/app)
 * transactions query at intervals of 5, 10, 30, 60 and 120 minutes; after
 * back-channel transactions that answered `00` or `03`/`04`/`05` (or timed out)
 * query at most 6 times at intervals of 1, 2, 4, 8, 16 and 32 seconds.
 *
 * @module
 */

/** Intervals between queries after a front (browser or app) transaction, ms: 5, 10, 30, 60, 120 minutes. */
export const FRONT_QUERY_INTERVALS_MS: readonly number[] = Object.freeze([5, 10, 30, 60, 120].map((m) => m * 60_000));
/** Intervals between queries after a back-channel transaction, ms: 1, 2, 4, 8, 16, 32 seconds. */
export const BACK_QUERY_INTERVALS_MS: readonly number[] = Object.freeze([1, 2, 4, 8, 16, 32].map((s) => s * 1000));

/** Which schedule applies: `front` after browser/app payments, `back` after back-channel transactions. */
export type QuerySchedule = 'front' | 'back';

/** What a query says about a transaction. */
export type QueryState = 'success' | 'processing' | 'failed' | 'not_found';

/** Codes meaning "not final yet, ask again". */
export const PENDING_CODES: ReadonlySet<string> = new Set(['03', '04', '05']);

/**
 * When to query next.
 *
 * @example
 * ```ts
 * nextQueryTime('front', 0, txnTimeMs); // txnTime + 5 minutes
 * nextQueryTime('back', 2, lastQueryMs); // lastQuery + 4 seconds
 * nextQueryTime('back', 6, lastQueryMs); // undefined: stop, use the reconciliation file
 * ```
 * @param schedule - `front` or `back`
 * @param queriesMade - how many queries were already made (0 before the first)
 * @param from - when the transaction was sent (before the first query) or the last query was made, epoch ms
 * @returns the epoch ms of the next query, or undefined when the schedule is exhausted
 */
export function nextQueryTime(schedule: QuerySchedule, queriesMade: number, from: number): number | undefined {
  const intervals = schedule === 'back' ? BACK_QUERY_INTERVALS_MS : FRONT_QUERY_INTERVALS_MS;
  if (!Number.isInteger(queriesMade) || queriesMade < 0) return undefined;
  const interval = intervals[queriesMade];
  return interval === undefined ? undefined : from + interval;
}

/** The interpretation of a query answer. */
export interface QueryInterpretation {
  /** The state, or `error` when the query itself failed. */
  state: QueryState | 'error';
  /** The code that decided it: `origRespCode` when the query worked, else `respCode`. */
  code: string;
}

/**
 * Interprets `respCode` and `origRespCode` of a `queryTrans` answer.
 *
 * @example
 * ```ts
 * interpretQuery('00', '00'); // { state: 'success', code: '00' }
 * interpretQuery('00', '05'); // { state: 'processing', code: '05' }
 * interpretQuery('34', undefined); // { state: 'not_found', code: '34' }
 * ```
 */
export function interpretQuery(respCode: string | undefined, origRespCode: string | undefined): QueryInterpretation {
  const code = respCode ?? '';
  if (code === '00') {
    const orig = origRespCode ?? '';
    if (orig === '00') return { state: 'success', code: orig };
    if (PENDING_CODES.has(orig)) return { state: 'processing', code: orig };
    return { state: 'failed', code: orig };
  }
  if (code === '34') return { state: 'not_found', code };
  if (PENDING_CODES.has(code)) return { state: 'processing', code };
  return { state: 'error', code };
}
