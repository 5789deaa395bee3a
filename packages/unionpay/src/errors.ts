/**
 * Turning gateway answers and transport failures into {@link PayError}s whose
 * messages start with `@pay/unionpay`.
 *
 * @module
 */
import {
  isPayError,
  PayArgumentError,
  PayConfigError,
  PayError,
  PayNetworkError,
  PayNotFoundError,
  PayProviderError,
  PayRateLimitError,
  PayTimeoutError,
  PayUpstreamError,
} from '@pay/core';
import { PREFIX } from './fields.js';

/** The ACP response codes (应答码) and their meaning, from UnionPay's interface specification. */
export const ACP_RESPONSE_CODES: Readonly<Record<string, string>> = Object.freeze({
  '00': 'success',
  '01': 'transaction failed (ask 95516)',
  '02': 'system not open or temporarily closed: try again later',
  '03': 'communication timeout: query the transaction',
  '04': 'transaction state unknown: query it or check the reconciliation file',
  '05': 'accepted: query the result later',
  '06': 'system busy: try again later',
  '10': 'malformed message',
  '11': 'signature verification failed',
  '12': 'duplicate transaction',
  '13': 'a required field is missing',
  '14': 'malformed batch file',
  '30': 'transaction declined: try another card or call 95516',
  '31': 'merchant state is not valid',
  '32': 'no permission for this transaction',
  '33': 'amount over the limit',
  '34': 'no such transaction',
  '35': 'original transaction missing or in the wrong state',
  '36': 'does not match the original transaction',
  '37': 'too many queries or operations too frequent',
  '38': 'UnionPay risk control',
  '39': 'outside the accepted time range',
  '40': 'binding check failed',
  '41': 'batch state does not allow download',
  '42': 'paid, but after the allowed payment time',
  '43': 'no permission for this business type',
  '60': 'declined by the issuing bank',
  '61': 'invalid card number',
  '62': 'the issuing bank does not support this merchant',
  '63': 'card state is not valid',
  '64': 'insufficient balance',
  '65': 'wrong password, expiry date or CVN2',
  '66': 'wrong cardholder identity or phone number',
  '67': 'too many password attempts',
  '98': 'file does not exist',
  '99': 'general error',
});

const HINTS: Readonly<Record<string, string>> = {
  '10': 'a field has a wrong format: compare the request with the interface specification',
  '11': 'the gateway could not verify our signature: check that signCert (certId) belongs to merId and to this environment (test vs production)',
  '12': 'this orderId was already used: every transaction (also refunds and undos) needs its own orderId',
  '13': 'a mandatory field is missing for this txnType/bizType',
  '31': 'the merchant number is not active in this environment',
  '32': 'the product (bizType) is not enabled for this merchant',
  '35': 'origQryId must be the queryId of a transaction that allows this operation (e.g. an undo only on the same day)',
  '36': 'the amount or another field does not match the original transaction',
};

/**
 * The error of a business failure the gateway reported (`respCode` other than success).
 *
 * @param what - the call, e.g. `refund`
 * @param fields - the verified answer
 */
export function providerError(what: string, fields: Readonly<Record<string, string | undefined>>): PayError {
  const code = fields.respCode ?? '';
  const msg = fields.respMsg;
  const meaning = ACP_RESPONSE_CODES[code];
  const message = `${PREFIX}: ${what}: UnionPay answered respCode ${code || '(none)'}${meaning ? ` (${meaning})` : ''}${msg ? `: ${msg}` : ''}`;
  const options = {
    provider: 'unionpay',
    providerCode: code,
    ...(msg !== undefined ? { providerMessage: msg } : {}),
    ...(HINTS[code] !== undefined ? { hint: HINTS[code] } : {}),
  };
  if (code === '34' || code === '98') return new PayNotFoundError(message, options);
  if (code === '37') return new PayRateLimitError(message, options);
  return new PayProviderError(message, { ...options, retryable: code === '02' || code === '06' });
}

/**
 * Re-raises a transport failure with this package's prefix, keeping its class, `cause` and response.
 *
 * @param e - what the transport threw
 * @param what - the call
 */
export function transportError(e: unknown, what: string): PayError {
  if (!isPayError(e)) {
    return new PayNetworkError(`${PREFIX}: ${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const err = e as PayError;
  const message = `${PREFIX}: ${what}: ${err.message.replace(/^@pay\/core: (transport: )?/, '')}`;
  if (err instanceof PayTimeoutError) return new PayTimeoutError(message, { cause: e });
  if (err instanceof PayUpstreamError) {
    return new PayUpstreamError(message, {
      cause: e,
      ...(err.httpStatus !== undefined ? { httpStatus: err.httpStatus } : {}),
      ...(err.response !== undefined ? { response: err.response } : {}),
    });
  }
  if (err instanceof PayNetworkError) return new PayNetworkError(message, { cause: e });
  if (err instanceof PayArgumentError) return new PayConfigError(message, { cause: e });
  if (err.message.startsWith(PREFIX)) return err;
  return new PayError(err.resultCode, message, { cause: e, retryable: err.retryable });
}
