// The dedicated parser of raw gateway responses (never URLSearchParams) and the
// form decoder of notifications.
import { PayArgumentError, PayResponseError } from '@pay/core';
import { describe, expect, it } from 'vitest';
import { formatGatewayResponse, parseGatewayResponse, parseNotificationBody } from '../src/index.js';

describe('parseGatewayResponse', () => {
  it('keeps & inside {…} and […] as data, and only the first = separates a name', () => {
    const f = parseGatewayResponse('respCode=00&respMsg=成功[0000000]&riskRateInfo={commodityName=a&b=c}&reserved=[x&y]&tn=1=2');
    expect({ ...f }).toEqual({
      respCode: '00',
      respMsg: '成功[0000000]',
      riskRateInfo: '{commodityName=a&b=c}',
      reserved: '[x&y]',
      tn: '1=2',
    });
  });

  it('handles nested brackets and closers without an opener', () => {
    const f = parseGatewayResponse('a={x=[1&2]&y={3&4}}&b=close]only&c=}');
    expect({ ...f }).toEqual({ a: '{x=[1&2]&y={3&4}}', b: 'close]only', c: '}' });
  });

  it('keeps values byte for byte: + / = and CRLF are never decoded', () => {
    const cert = '-----BEGIN CERTIFICATE-----\r\nMIIEYz+/==\r\n-----END CERTIFICATE-----';
    const f = parseGatewayResponse(`signPubKeyCert=${cert}&signature=ab+/cd==&pct=%20`);
    expect(f.signPubKeyCert).toBe(cert);
    expect(f.signature).toBe('ab+/cd==');
    expect(f.pct).toBe('%20');
  });

  it('keeps empty values and accepts bytes (UTF-8)', () => {
    const f = parseGatewayResponse(Buffer.from('a=&b=银联', 'utf8'));
    expect({ ...f }).toEqual({ a: '', b: '银联' });
  });

  it('accepts a body wrapped in { } as UnionPay’s own SDKs do', () => {
    expect({ ...parseGatewayResponse('{a=1&b=2}') }).toEqual({ a: '1', b: '2' });
  });

  it('returns a null-prototype object, so "__proto__" is just a field', () => {
    const f = parseGatewayResponse('__proto__=x&constructor=y');
    expect(Object.getPrototypeOf(f)).toBe(null);
    expect(Object.getOwnPropertyDescriptor(f, '__proto__')?.value).toBe('x');
  });

  it.each([
    ['', /empty body/],
    ['   ', /empty body/],
    ['a=1&&b=2', /without "="/],
    ['a=1&', /without "="/],
    ['novalue', /without "="/],
    ['=1', /empty field name/],
    ['a=1&a=2', /appears twice/],
    ['a={unclosed&b=2', /never closes/],
    ['a=[x', /never closes/],
  ])('rejects %j with a PayResponseError', (text, message) => {
    expect(() => parseGatewayResponse(text)).toThrow(PayResponseError);
    expect(() => parseGatewayResponse(text)).toThrow(message);
  });

  it('rejects bytes that are not UTF-8', () => {
    expect(() => parseGatewayResponse(Buffer.from([0x61, 0x3d, 0xc3]))).toThrow(/not valid UTF-8/);
  });

  it('formatGatewayResponse writes sorted fields with signPubKeyCert and signature last, and parses back', () => {
    const fields = { signature: 's+/=', b: '2', signPubKeyCert: 'x\r\ny', a: '{1&2}' };
    const text = formatGatewayResponse(fields);
    expect(text).toBe('a={1&2}&b=2&signPubKeyCert=x\r\ny&signature=s+/=');
    expect({ ...parseGatewayResponse(text) }).toEqual(fields);
  });
});

describe('parseNotificationBody', () => {
  it('decodes a form body exactly once (%2B is "+", "+" is a space)', () => {
    const f = parseNotificationBody('a=1%2B1&b=x+y&c=%25');
    expect({ ...f }).toEqual({ a: '1+1', b: 'x y', c: '%' });
  });

  it('rejects duplicated fields, malformed percent-encoding and an empty body', () => {
    expect(() => parseNotificationBody('a=1&a=1')).toThrow(PayArgumentError);
    expect(() => parseNotificationBody('a=1&a=1')).toThrow(/^@pay\/unionpay: notification body: the key "a" appears more than once/);
    expect(() => parseNotificationBody('a=%E4%B8')).toThrow(/percent-encoding/);
    expect(() => parseNotificationBody('')).toThrow(/empty body/);
  });
});
