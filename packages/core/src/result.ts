/**
 * The result contract every operation a backend exposes to its own clients answers in.
 *
 * @module
 */
import { isPayError, type PayError, ResultCode, type ResultCodeValue, ResultMessage, redactSecrets } from './errors.js';

/**
 * The non-zero codes of {@link ResultCode}. Typed as literals so that
 * `if (result.result_code === 0)` narrows a {@link PayResult} to its success branch.
 */
export type FailureCode = Exclude<ResultCodeValue, 0>;

/** A successful outcome: `result_code` 0, `result_msg` `OK`. */
export interface PaySuccess<T> {
  /** Always 0. */
  result_code: 0;
  /** Always `OK`. */
  result_msg: 'OK';
  /** The payment record's id, once a payment was started successfully. */
  id?: string;
  /** The payload of the operation. */
  data: T;
}

/** A failed outcome: a non-zero code from {@link ResultCode} and a precise `err_detail`. */
export interface PayFailure {
  /** A non-zero code from {@link ResultCode}. */
  result_code: FailureCode;
  /** The stable word of that code in {@link ResultMessage}, e.g. `SIGNATURE_INVALID`. */
  result_msg: string;
  /** What went wrong, in words a developer can act on. Never holds a secret. */
  err_detail: string;
  /** The payment record's id, when the failure concerns a known record. */
  id?: string;
}

/** `{ result_code, result_msg, err_detail, id }`: the one shape of every answer. */
export type PayResult<T> = PaySuccess<T> | PayFailure;

/**
 * Builds a success result.
 *
 * @param data - the payload
 * @param id - the payment record's id, if there is one
 */
export function payOk<T>(data: T, id?: string): PaySuccess<T> {
  return id === undefined ? { result_code: 0, result_msg: 'OK', data } : { result_code: 0, result_msg: 'OK', id, data };
}

/**
 * Turns any thrown value into a failure result. A {@link PayError} keeps its code,
 * the provider's detail and the hint; anything else becomes `INTERNAL_ERROR` with
 * its class name and message (redacted).
 *
 * @param error - what was thrown
 * @param id - the payment record's id, if known
 */
export function payFailure(error: unknown, id?: string): PayFailure {
  let failure: PayFailure;
  if (isPayError(error)) {
    const e = error as PayError;
    const code: FailureCode = e.resultCode === 0 ? ResultCode.INTERNAL : e.resultCode;
    // A PayError from another copy of the package may lack the `detail` getter.
    const detail = typeof e.detail === 'string' ? e.detail : redactSecrets(typeof e.message === 'string' ? e.message : describeThrown(e));
    failure = { result_code: code, result_msg: ResultMessage[code] ?? 'ERROR', err_detail: detail };
  } else {
    failure = {
      result_code: ResultCode.INTERNAL,
      result_msg: ResultMessage[ResultCode.INTERNAL],
      err_detail: redactSecrets(`unexpected ${describeThrown(error)}`),
    };
  }
  if (id !== undefined) failure.id = id;
  return failure;
}

/** Describes any thrown value without ever throwing (objects without a prototype, throwing getters…). */
function describeThrown(error: unknown): string {
  try {
    if (error instanceof Error) return `${error.name}: ${error.message}`;
    if (typeof error === 'string') return `string: ${error}`;
    if (error === null || error === undefined) return String(error);
    if (typeof error === 'object') {
      const message = (error as { message?: unknown }).message;
      return typeof message === 'string' ? `object: ${message}` : `object: ${Object.prototype.toString.call(error)}`;
    }
    return `${typeof error}: ${String(error)}`;
  } catch {
    return 'value that cannot be described';
  }
}

/**
 * Runs an operation and answers in the result contract, whatever happens.
 *
 * @example
 * ```ts
 * const result = await toPayResult(() => alipay.query({ out_trade_no: 'A1' }));
 * if (result.result_code === 0) console.log(result.data);
 * ```
 * @param operation - a function returning the payload (or a promise of it), or a promise
 * @param id - the payment record's id to put in the answer
 */
export async function toPayResult<T>(operation: (() => T | Promise<T>) | Promise<T>, id?: string): Promise<PayResult<T>> {
  try {
    const data = typeof operation === 'function' ? await operation() : await operation;
    return payOk(data, id);
  } catch (error) {
    return payFailure(error, id);
  }
}

/** True when a result is a success. */
export function isPayOk<T>(result: PayResult<T>): result is PaySuccess<T> {
  return result.result_code === 0;
}
