import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  isPayError,
  isPayOk,
  PayArgumentError,
  PayCertificateError,
  PayConfigError,
  PayDecryptError,
  PayError,
  PayMismatchError,
  PayNetworkError,
  PayNotFoundError,
  PayProviderError,
  PayRateLimitError,
  PayReplayError,
  PayResponseError,
  PaySignatureError,
  PayStateError,
  PayTimeoutError,
  PayUpstreamError,
  payFailure,
  payOk,
  ResultCode,
  ResultMessage,
  redactSecrets,
  toPayResult,
} from '../src/index.js';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privatePem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
const privateB64 = privatePem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');

describe('the result code table', () => {
  it('is pinned: codes are never renumbered or renamed', () => {
    expect({ ...ResultCode }).toStrictEqual({
      OK: 0,
      CONFIG: 1000,
      INVALID_ARGUMENT: 1001,
      SIGNATURE: 2000,
      CERTIFICATE: 2001,
      REPLAY: 2002,
      DECRYPT: 2003,
      MISMATCH: 2004,
      PROVIDER: 3000,
      NOT_FOUND: 3001,
      NETWORK: 4000,
      TIMEOUT: 4001,
      UPSTREAM: 4002,
      BAD_RESPONSE: 4003,
      RATE_LIMITED: 4004,
      STATE_CONFLICT: 5000,
      INTERNAL: 9000,
    });
    expect({ ...ResultMessage }).toStrictEqual({
      0: 'OK',
      1000: 'CONFIG_ERROR',
      1001: 'INVALID_ARGUMENT',
      2000: 'SIGNATURE_INVALID',
      2001: 'CERTIFICATE_INVALID',
      2002: 'REPLAY_OR_STALE',
      2003: 'DECRYPT_FAILED',
      2004: 'MISMATCH',
      3000: 'PROVIDER_ERROR',
      3001: 'NOT_FOUND',
      4000: 'NETWORK_ERROR',
      4001: 'TIMEOUT',
      4002: 'UPSTREAM_ERROR',
      4003: 'BAD_RESPONSE',
      4004: 'RATE_LIMITED',
      5000: 'STATE_CONFLICT',
      9000: 'INTERNAL_ERROR',
    });
  });

  it('has a message for every code and unique numbers', () => {
    const values = Object.values(ResultCode);
    expect(new Set(values).size).toBe(values.length);
    for (const v of values) expect(ResultMessage[v]).toMatch(/^[A-Z_]+$/);
  });
});

describe('PayError and its subclasses', () => {
  const table: Array<[new (m: string) => PayError, number, string, boolean]> = [
    [PayConfigError, 1000, 'ERR_PAY_CONFIG', false],
    [PayArgumentError, 1001, 'ERR_PAY_INVALID_ARGUMENT', false],
    [PaySignatureError, 2000, 'ERR_PAY_SIGNATURE', false],
    [PayCertificateError, 2001, 'ERR_PAY_CERTIFICATE', false],
    [PayReplayError, 2002, 'ERR_PAY_REPLAY', false],
    [PayDecryptError, 2003, 'ERR_PAY_DECRYPT', false],
    [PayMismatchError, 2004, 'ERR_PAY_MISMATCH', false],
    [PayProviderError, 3000, 'ERR_PAY_PROVIDER', false],
    [PayNotFoundError, 3001, 'ERR_PAY_NOT_FOUND', false],
    [PayNetworkError, 4000, 'ERR_PAY_NETWORK', true],
    [PayTimeoutError, 4001, 'ERR_PAY_TIMEOUT', true],
    [PayUpstreamError, 4002, 'ERR_PAY_UPSTREAM', true],
    [PayResponseError, 4003, 'ERR_PAY_BAD_RESPONSE', false],
    [PayRateLimitError, 4004, 'ERR_PAY_RATE_LIMITED', true],
    [PayStateError, 5000, 'ERR_PAY_STATE_CONFLICT', false],
  ];
  for (const [Ctor, code, name, retryable] of table) {
    it(`${Ctor.name}: code ${code}, ${name}, retryable ${retryable}, answered as ${ResultMessage[code as 1000]}`, () => {
      const e = new Ctor('@pay/core: something');
      expect(e).toBeInstanceOf(PayError);
      expect(e).toBeInstanceOf(Error);
      expect(e.name).toBe(Ctor.name);
      expect(e.resultCode).toBe(code);
      expect(e.code).toBe(name);
      expect(e.retryable).toBe(retryable);
      expect(e.stack).toContain(Ctor.name);
      expect(payFailure(e)).toStrictEqual({
        result_code: code,
        result_msg: ResultMessage[code as 1000],
        err_detail: '@pay/core: something',
      });
    });
  }

  it('carries the provider code, sub-code, message, HTTP status, hint, reason and cause', () => {
    const cause = new Error('socket said no');
    const e = new PayProviderError('@pay/alipay: alipay.trade.pay failed', {
      provider: 'alipay',
      providerCode: '40004',
      providerSubCode: 'ACQ.TRADE_HAS_SUCCESS',
      providerMessage: 'Business Failed',
      httpStatus: 200,
      hint: 'the trade was already paid; query it instead',
      reason: 'TRADE_HAS_SUCCESS',
      cause,
    });
    expect(e.provider).toBe('alipay');
    expect(e.providerCode).toBe('40004');
    expect(e.providerSubCode).toBe('ACQ.TRADE_HAS_SUCCESS');
    expect(e.providerMessage).toBe('Business Failed');
    expect(e.httpStatus).toBe(200);
    expect(e.reason).toBe('TRADE_HAS_SUCCESS');
    expect(e.cause).toBe(cause);
    expect(e.detail).toBe(
      '@pay/alipay: alipay.trade.pay failed [code=40004 sub_code=ACQ.TRADE_HAS_SUCCESS msg=Business Failed http=200] hint: the trade was already paid; query it instead',
    );
    expect(new PayProviderError('x').cause).toBeUndefined();
    expect('cause' in new PayProviderError('x')).toBe(false);
  });

  it('lets a caller make a default-retryable error final, and the reverse', () => {
    expect(new PayNetworkError('x', { retryable: false }).retryable).toBe(false);
    expect(new PayProviderError('x', { retryable: true }).retryable).toBe(true);
  });

  it('keeps the 5xx response of a PayUpstreamError and the delay of a PayRateLimitError', () => {
    const response = { status: 503, headers: { 'retry-after': '1' }, body: Buffer.from('busy') };
    const up = new PayUpstreamError('@pay/core: 503', { httpStatus: 503, response });
    expect(up.response).toBe(response);
    expect(up.detail).toContain('http=503');
    expect(new PayRateLimitError('slow down', { retryAfterMs: 1500 }).retryAfterMs).toBe(1500);
  });

  it('isPayError recognises PayErrors, also from another copy of the package, and nothing else', () => {
    expect(isPayError(new PaySignatureError('x'))).toBe(true);
    expect(isPayError({ resultCode: 2000, code: 'ERR_PAY_SIGNATURE', message: 'x' })).toBe(true);
    expect(isPayError(new Error('x'))).toBe(false);
    expect(isPayError({ resultCode: 2000, code: 'ENOENT' })).toBe(false);
    expect(isPayError(null)).toBe(false);
    expect(isPayError('ERR_PAY_X')).toBe(false);
  });
});

describe('err_detail never holds a secret', () => {
  it('redacts a PEM block, a bare base64 key, one wrapped across lines and one with escaped \\n', () => {
    const wrapped = privateB64.replace(/(.{64})/g, '$1\n');
    const escaped = privateB64.replace(/(.{64})/g, '$1\\n');
    for (const secret of [privatePem, privateB64, wrapped, escaped, `-----BEGIN PRIVATE KEY-----\n${privateB64.slice(0, 300)}`]) {
      const e = new PayConfigError(`@pay/core: bad key ${secret} (check it)`, { providerMessage: `echo ${secret}`, hint: `not ${secret}` });
      const detail = payFailure(e).err_detail;
      for (let i = 0; i + 24 <= privateB64.length; i += 24) expect(detail).not.toContain(privateB64.slice(i, i + 24));
      expect(detail).toMatch(/^@pay\/core: bad key \[redacted( PEM)?\]/);
      expect(detail).toContain('(check it)');
    }
  });

  it('redacts secrets in messages of errors that are not PayErrors', () => {
    const detail = payFailure(new TypeError(`cannot use ${privatePem}`)).err_detail;
    expect(detail).toBe('unexpected TypeError: cannot use [redacted PEM]\n');
  });

  it('keeps short values readable: ids, serials, sub-codes, MD5 signatures', () => {
    const text = 'serial 5DEA10EF55877E3CF6C33255C2E7DEFFF7E427EC sign 9A0A8659F005D6984697E2CA0A9CF3B7 sub_code ACQ.TRADE_HAS_SUCCESS';
    expect(redactSecrets(text)).toBe(text);
  });
});

describe('toPayResult answers in the contract whatever happens', () => {
  it('wraps a value, a promise and an async function, with and without id', async () => {
    expect(await toPayResult(() => 42)).toStrictEqual({ result_code: 0, result_msg: 'OK', data: 42 });
    expect(await toPayResult(Promise.resolve({ a: 1 }), 'pay_1')).toStrictEqual({
      result_code: 0,
      result_msg: 'OK',
      id: 'pay_1',
      data: { a: 1 },
    });
    expect(await toPayResult(async () => 'x')).toStrictEqual({ result_code: 0, result_msg: 'OK', data: 'x' });
    expect(await toPayResult(() => undefined)).toStrictEqual({ result_code: 0, result_msg: 'OK', data: undefined });
    expect(payOk('d', 'id1')).toStrictEqual({ result_code: 0, result_msg: 'OK', id: 'id1', data: 'd' });
  });

  it('turns a thrown or rejected PayError into its code, message and detail', async () => {
    const err = new PaySignatureError('@pay/wechat: signature does not verify', { providerCode: 'SIGN_ERROR' });
    const sync = await toPayResult(() => {
      throw err;
    }, 'pay_9');
    expect(sync).toStrictEqual({
      result_code: 2000,
      result_msg: 'SIGNATURE_INVALID',
      err_detail: '@pay/wechat: signature does not verify [code=SIGN_ERROR]',
      id: 'pay_9',
    });
    expect(await toPayResult(Promise.reject(err))).toStrictEqual({
      result_code: 2000,
      result_msg: 'SIGNATURE_INVALID',
      err_detail: '@pay/wechat: signature does not verify [code=SIGN_ERROR]',
    });
    expect(isPayOk(sync)).toBe(false);
  });

  it('turns anything else into INTERNAL_ERROR and never throws itself', async () => {
    const weird = Object.create(null) as object;
    const throwing = {
      get message(): string {
        throw new Error('getter');
      },
    };
    const cases: Array<[unknown, string]> = [
      [new RangeError('out of range'), 'unexpected RangeError: out of range'],
      ['boom', 'unexpected string: boom'],
      [undefined, 'unexpected undefined'],
      [null, 'unexpected null'],
      [42, 'unexpected number: 42'],
      [{ message: 'plain object' }, 'unexpected object: plain object'],
      [weird, 'unexpected object: [object Object]'],
      [throwing, 'unexpected value that cannot be described'],
      [Symbol('s'), 'unexpected symbol: Symbol(s)'],
    ];
    for (const [thrown, detail] of cases) {
      const r = await toPayResult(() => {
        throw thrown;
      });
      expect(r).toStrictEqual({ result_code: 9000, result_msg: 'INTERNAL_ERROR', err_detail: detail });
    }
  });

  it('answers for a PayError-shaped object from another copy of the package', async () => {
    const foreign = { resultCode: 3001, code: 'ERR_PAY_NOT_FOUND', message: 'no such order' };
    expect(await toPayResult(Promise.reject(foreign))).toStrictEqual({
      result_code: 3001,
      result_msg: 'NOT_FOUND',
      err_detail: 'no such order',
    });
  });

  it('never answers a failure with code 0', () => {
    const odd = new PayError(0, 'a PayError built with code 0');
    expect(payFailure(odd)).toStrictEqual({ result_code: 9000, result_msg: 'INTERNAL_ERROR', err_detail: 'a PayError built with code 0' });
  });
});
