// Legacy verifyReceipt (deprecated by Apple) against a server on 127.0.0.1 that answers the
// documented status codes: production first, sandbox on 21007, production on 21008.
import {
  createHttpTransport,
  PayArgumentError,
  PayConfigError,
  PayMismatchError,
  PayNotFoundError,
  PayProviderError,
  PayResponseError,
  PaySignatureError,
  PayUpstreamError,
} from '@pay/core';
import { startLoopbackServer } from '@pay/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LegacyReceiptVerifier, legacyStatusError, VerificationReason } from '../src/index.js';
import { rejection } from './helpers.js';

let answers: Record<'production' | 'sandbox', () => { status?: number; body: string }>;
let posted: Array<{ env: string; body: Record<string, unknown> }> = [];
let server: Awaited<ReturnType<typeof startLoopbackServer>>;

const ok = (environment: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    status: 0,
    environment,
    receipt: {
      bundle_id: 'com.example.app',
      in_app: [
        { product_id: 'coins', transaction_id: '1001', original_transaction_id: '1001', purchase_date_ms: '1000', quantity: '1' },
        { product_id: 'pro', transaction_id: '1002', original_transaction_id: '1002', purchase_date_ms: '2000', expires_date_ms: '3000' },
      ],
    },
    latest_receipt_info: [
      { product_id: 'pro', transaction_id: '1003', original_transaction_id: '1002', purchase_date_ms: '3000', expires_date_ms: '4000' },
      {
        product_id: 'pro',
        transaction_id: '1002',
        original_transaction_id: '1002',
        purchase_date_ms: '2000',
        expires_date_ms: '3000',
        is_trial_period: 'true',
      },
    ],
    pending_renewal_info: [{ auto_renew_product_id: 'pro', original_transaction_id: '1002', product_id: 'pro', auto_renew_status: '1' }],
    latest_receipt: 'MIIT...',
    ...extra,
  });

beforeAll(async () => {
  server = await startLoopbackServer((req) => {
    const env = req.path === '/production' ? 'production' : 'sandbox';
    posted.push({ env, body: JSON.parse(req.body.toString()) });
    const a = answers[env]();
    return { status: a.status ?? 200, headers: { 'content-type': 'application/json' }, body: a.body };
  });
});
afterAll(() => server.close());

function legacy(options: ConstructorParameters<typeof LegacyReceiptVerifier>[0] = {}) {
  posted = [];
  return new LegacyReceiptVerifier({
    sharedSecret: 'shh-secret',
    bundleId: 'com.example.app',
    productionUrl: `${server.url}/production`,
    sandboxUrl: `${server.url}/sandbox`,
    transport: createHttpTransport({ retries: 0 }),
    ...options,
  });
}

describe('LegacyReceiptVerifier.verifyReceipt', () => {
  it('production receipt: one call; body carries receipt-data, password and exclude-old-transactions', async () => {
    answers = { production: () => ({ body: ok('Production') }), sandbox: () => ({ body: '{"status":21008}' }) };
    const r = await legacy().verifyReceipt(' AAAA\nBBBB ', { excludeOldTransactions: true });
    expect(r.environment).toBe('Production');
    expect(posted).toEqual([
      { env: 'production', body: { 'receipt-data': 'AAAABBBB', password: 'shh-secret', 'exclude-old-transactions': true } },
    ]);
  });

  it('merges latest_receipt_info and in_app, de-duplicated by transaction_id (latest copy wins), by purchase date; pending_renewal_info typed', async () => {
    answers = { production: () => ({ body: ok('Production') }), sandbox: () => ({ body: '{"status":21008}' }) };
    const r = await legacy().verifyReceipt('AAAA');
    expect(r.transactions.map((t) => t.transaction_id)).toEqual(['1001', '1002', '1003']);
    expect(r.transactions.find((t) => t.transaction_id === '1002')?.is_trial_period).toBe('true');
    expect(r.pendingRenewalInfo).toEqual([
      { auto_renew_product_id: 'pro', original_transaction_id: '1002', product_id: 'pro', auto_renew_status: '1' },
    ]);
  });

  it('21007 from production → the same request goes to the sandbox', async () => {
    answers = { production: () => ({ body: '{"status":21007}' }), sandbox: () => ({ body: ok('Sandbox') }) };
    const r = await legacy().verifyReceipt('AAAA');
    expect(r.environment).toBe('Sandbox');
    expect(posted.map((p) => p.env)).toEqual(['production', 'sandbox']);
    expect(posted[1]?.body).toEqual(posted[0]?.body);
  });

  it('starting at the sandbox: 21008 → production', async () => {
    answers = { production: () => ({ body: ok('Production') }), sandbox: () => ({ body: '{"status":21008}' }) };
    const r = await legacy({ environment: 'Sandbox' }).verifyReceipt('AAAA');
    expect(r.environment).toBe('Production');
    expect(posted.map((p) => p.env)).toEqual(['sandbox', 'production']);
  });

  it('21006 (valid receipt, expired subscription) is a valid answer', async () => {
    answers = { production: () => ({ body: ok('Production', { status: 21006 }) }), sandbox: () => ({ body: '' }) };
    expect((await legacy().verifyReceipt('AAAA')).response.status).toBe(21006);
  });

  it('a receipt of another app → PayMismatchError INVALID_APP_IDENTIFIER', async () => {
    answers = { production: () => ({ body: ok('Production').replace('com.example.app', 'com.other') }), sandbox: () => ({ body: '' }) };
    const e = await rejection(legacy().verifyReceipt('AAAA'));
    expect(e).toBeInstanceOf(PayMismatchError);
    expect(e.reason).toBe(VerificationReason.INVALID_APP_IDENTIFIER);
  });

  it.each([
    [21000, PayProviderError, false],
    [21002, PayProviderError, true],
    [21003, PaySignatureError, false],
    [21004, PayProviderError, false],
    [21005, PayUpstreamError, true],
    [21009, PayUpstreamError, true],
    [21010, PayNotFoundError, false],
    [21100, PayUpstreamError, true],
    [21199, PayUpstreamError, true],
    [21999, PayProviderError, false],
  ])('status %i → %o (retryable %s), code kept', async (status, cls, retryable) => {
    answers = { production: () => ({ body: JSON.stringify({ status }) }), sandbox: () => ({ body: JSON.stringify({ status }) }) };
    const e = await rejection(legacy().verifyReceipt('AAAA'));
    expect(e).toBeInstanceOf(cls);
    expect(e.providerCode).toBe(String(status));
    expect(e.retryable).toBe(retryable);
    expect(e.detail).not.toContain('shh-secret');
  });

  it('21007 answered by the sandbox too is an error, not a loop', async () => {
    answers = { production: () => ({ body: '{"status":21007}' }), sandbox: () => ({ body: '{"status":21007}' }) };
    const e = await rejection(legacy().verifyReceipt('AAAA'));
    expect(e.providerCode).toBe('21007');
    expect(posted).toHaveLength(2);
  });

  it('is-retryable false on 21100-21199 makes the error not retryable', () => {
    expect(legacyStatusError(21150, { status: 21150, 'is-retryable': false }).retryable).toBe(false);
  });

  it('malformed answers → PayResponseError; 5xx → PayUpstreamError; an empty receipt → PayArgumentError; an empty secret → PayConfigError', async () => {
    answers = { production: () => ({ body: '<html>' }), sandbox: () => ({ body: '' }) };
    expect(await rejection(legacy().verifyReceipt('AAAA'))).toBeInstanceOf(PayResponseError);
    answers = { production: () => ({ body: '{"receipt":{}}' }), sandbox: () => ({ body: '' }) };
    expect(await rejection(legacy().verifyReceipt('AAAA'))).toBeInstanceOf(PayResponseError);
    answers = { production: () => ({ status: 503, body: 'busy' }), sandbox: () => ({ body: '' }) };
    expect(await rejection(legacy().verifyReceipt('AAAA'))).toBeInstanceOf(PayUpstreamError);
    expect(await rejection(legacy().verifyReceipt('  '))).toBeInstanceOf(PayArgumentError);
    expect(() => legacy({ sharedSecret: '' })).toThrow(PayConfigError);
  });
});
