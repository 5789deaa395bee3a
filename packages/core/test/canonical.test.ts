import { describe, expect, it } from 'vitest';
import { canonicalString, formDecode, formEncode, formEncodeValue, PayArgumentError } from '../src/index.js';

/** formDecode's result as a plain object (it has no prototype), for equality checks. */
const decoded = (...args: Parameters<typeof formDecode>): Record<string, string> => ({ ...formDecode(...args) });

describe('canonicalString', () => {
  it('sorts keys in ASCII order (upper case before lower case, _ between) and joins k=v with &', () => {
    expect(canonicalString({ b: '2', a: '1', C: '3', a_b: '4', aB: '5', a1: '6' })).toBe('C=3&a=1&a1=6&aB=5&a_b=4&b=2');
  });

  it('leaves out excluded keys (array or Set), undefined and null', () => {
    const p = { sign: 'xx', sign_type: 'RSA2', app_id: '2021', n: null, u: undefined };
    expect(canonicalString(p, { exclude: ['sign'] })).toBe('app_id=2021&sign_type=RSA2');
    expect(canonicalString(p, { exclude: new Set(['sign', 'sign_type']) })).toBe('app_id=2021');
    expect(canonicalString(p)).toBe('app_id=2021&sign=xx&sign_type=RSA2');
  });

  it('drops empty values by default and keeps them when asked', () => {
    expect(canonicalString({ a: '', b: '1' })).toBe('b=1');
    expect(canonicalString({ a: '', b: '1' }, { dropEmpty: false })).toBe('a=&b=1');
    expect(canonicalString({ a: ' ', b: '1' })).toBe('a= &b=1');
  });

  it('trims values when asked, dropping those blank after trimming unless dropEmpty is false', () => {
    expect(canonicalString({ a: '  x ', b: '   ', c: '1' }, { trim: true })).toBe('a=x&c=1');
    expect(canonicalString({ a: '  x ', b: '   ' }, { trim: true, dropEmpty: false })).toBe('a=x&b=');
  });

  it('keeps values raw by default (no encoding of &, =, +, spaces, JSON or Unicode)', () => {
    const biz = '{"subject":"测试 a+b/c","amount":"0.01"}';
    expect(canonicalString({ biz_content: biz, subject: 'a&b=c 😀' })).toBe(`biz_content=${biz}&subject=a&b=c 😀`);
  });

  it('encodes values with the given function, which sees the key', () => {
    const seen: string[] = [];
    const out = canonicalString(
      { b: 'x y', a: '测' },
      {
        encode: (v, k) => {
          seen.push(k);
          return encodeURIComponent(v);
        },
      },
    );
    expect(out).toBe('a=%E6%B5%8B&b=x%20y');
    expect(seen).toEqual(['a', 'b']);
  });

  it('keeps the given order when sort is false', () => {
    expect(canonicalString({ b: '2', a: '1' }, { sort: false })).toBe('b=2&a=1');
  });

  it('writes numbers and booleans as text', () => {
    expect(canonicalString({ total: 100, ok: true, f: false, z: 0 })).toBe('f=false&ok=true&total=100&z=0');
  });

  it('rejects objects and arrays, which would be signed as [object Object]', () => {
    const bad = { biz_content: { out_trade_no: '1' } } as never;
    expect(() => canonicalString(bad)).toThrow(PayArgumentError);
    expect(() => canonicalString(bad)).toThrow(/"biz_content" must be a string, number or boolean, got object \(serialise it first/);
    expect(() => canonicalString({ list: [1, 2] } as never)).toThrow(/got an array/);
  });

  it('does not mutate its input', () => {
    const p = { b: '2', a: '1', sign: 's' };
    const copy = { ...p };
    canonicalString(p, { exclude: ['sign'] });
    expect(p).toStrictEqual(copy);
    expect(Object.keys(p)).toEqual(['b', 'a', 'sign']);
  });
});

describe('formEncode', () => {
  it('encodes as application/x-www-form-urlencoded: space as +, + as %2B, UTF-8, reserved characters escaped', () => {
    expect(formEncode({ subject: '测试 a+b/c', q: "!'()*~-._" })).toBe('subject=%E6%B5%8B%E8%AF%95+a%2Bb%2Fc&q=%21%27%28%29%2A~-._');
    expect(formEncodeValue('a b&c=d')).toBe('a+b%26c%3Dd');
  });

  it('keeps the given order or sorts, leaves out undefined and null, writes numbers', () => {
    expect(formEncode({ b: 2, a: '1', n: null, u: undefined })).toBe('b=2&a=1');
    expect(formEncode({ b: 2, a: '1' }, { sort: true })).toBe('a=1&b=2');
    expect(formEncode({ empty: '' })).toBe('empty=');
  });

  it('round-trips through formDecode for awkward values', () => {
    const values = { a: '+', b: '%2B', c: ' ', d: '=&=', e: '测试😀', f: '', g: 'a\nb', 'k y': 'v' };
    expect(decoded(formEncode(values))).toStrictEqual(values);
  });

  it('rejects a lone surrogate and an object value', () => {
    expect(() => formEncodeValue('\ud800')).toThrow(PayArgumentError);
    expect(() => formEncode({ a: '\udc00x' })).toThrow(/lone UTF-16 surrogate/);
    expect(() => formEncode({ a: {} } as never)).toThrow(/must be a string, number or boolean/);
  });
});

describe('formDecode', () => {
  it('decodes exactly once: + is a space, %2B is a plus, %252B stays %2B', () => {
    expect(decoded('subject=yansongda+%E6%B5%8B%E8%AF%95+-+1&s=a%2Bb&t=%252B')).toStrictEqual({
      subject: 'yansongda 测试 - 1',
      s: 'a+b',
      t: '%2B',
    });
  });

  it('reads bytes as UTF-8, keeps = inside values, tolerates empty pairs, reads keys without =', () => {
    expect(decoded(Buffer.from('sign=abc==&&flag&x=%E6%B5%8B'))).toStrictEqual({ sign: 'abc==', flag: '', x: '测' });
    expect(decoded(new Uint8Array(Buffer.from('a=1')))).toStrictEqual({ a: '1' });
    expect(decoded('')).toStrictEqual({});
  });

  it('rejects a duplicated key by default; first or last on request', () => {
    expect(() => formDecode('total_amount=0.01&total_amount=100')).toThrow(PayArgumentError);
    expect(() => formDecode('a=1&a=2')).toThrow(/the key "a" appears more than once/);
    expect(() => formDecode('a=1&%61=2')).toThrow(/appears more than once/);
    expect(decoded('a=1&a=2', { duplicates: 'first' })).toStrictEqual({ a: '1' });
    expect(decoded('a=1&a=2', { duplicates: 'last' })).toStrictEqual({ a: '2' });
  });

  it('rejects malformed percent-encoding in keys and values', () => {
    for (const body of ['a=%', 'a=%2', 'a=%zz', 'a=%E6%B5', '%=1', 'a=%C0%AF']) {
      expect(() => formDecode(body), body).toThrow(PayArgumentError);
    }
    expect(() => formDecode('total=%E6%B5')).toThrow(/the value of "total" is not valid percent-encoding/);
  });

  it('returns a map without a prototype (no __proto__ pollution)', () => {
    const out = formDecode('__proto__=x&constructor=y');
    expect(Object.getPrototypeOf(out)).toBeNull();
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toBe('x');
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('rejects a parsed body with a clear message', () => {
    expect(() => formDecode({ a: '1' } as never)).toThrow(/expected the raw body as a string or bytes, got object/);
  });
});
