import { describe, expect, it } from 'vitest';
import { derBytes, derChildren, derContent, derInteger, derOid, derString, derTime, PayArgumentError, readDer } from '../src/index.js';

const h = (hex: string): Buffer => Buffer.from(hex.replace(/\s+/g, ''), 'hex');

describe('DER reader', () => {
  it('reads short and long lengths, children, content and whole encodings', () => {
    const seq = readDer(h('30 06 02 01 05 04 01 ff'));
    expect(seq.tag).toBe(0x30);
    const [i, o] = derChildren(seq);
    expect(derInteger(i as never)).toBe(5n);
    expect([...derContent(o as never)]).toEqual([0xff]);
    expect([...derBytes(o as never)]).toEqual([0x04, 0x01, 0xff]);
    const long = readDer(Buffer.concat([h('04 82 01 00'), Buffer.alloc(256, 7)]));
    expect(derContent(long)).toHaveLength(256);
  });

  it('decodes OIDs, positive integers (serials), strings and times', () => {
    expect(derOid(readDer(h('06 09 2a 86 48 86 f7 0d 01 01 0b')))).toBe('1.2.840.113549.1.1.11');
    expect(derOid(readDer(h('06 03 55 04 03')))).toBe('2.5.4.3');
    expect(derOid(readDer(h('06 08 2a 81 1c cf 55 01 83 75')))).toBe('1.2.156.10197.1.501');
    expect(derInteger(readDer(h('02 09 00 c3 6e 9f a8 4b 5d 2e 71')))).toBe(0xc36e9fa84b5d2e71n);
    expect(derString(readDer(Buffer.concat([h('0c 06'), Buffer.from('测试')])))).toBe('测试');
    expect(derString(readDer(h('1e 04 6d 4b 8b d5')))).toBe('测试'); // BMPString
    expect(derString(readDer(Buffer.concat([h('13 02'), Buffer.from('CN')])))).toBe('CN');
    expect(derTime(readDer(Buffer.concat([h('17 0d'), Buffer.from('491231235959Z')])))).toBe(Date.UTC(2049, 11, 31, 23, 59, 59));
    expect(derTime(readDer(Buffer.concat([h('17 0d'), Buffer.from('500101000000Z')])))).toBe(Date.UTC(1950, 0, 1));
    expect(derTime(readDer(Buffer.concat([h('18 0f'), Buffer.from('20500101000000Z')])))).toBe(Date.UTC(2050, 0, 1));
  });

  it('rejects truncated, indefinite-length, multi-byte-tag and overrunning elements with PayArgumentError', () => {
    for (const bad of ['30', '30 05 02 01', '30 80 00 00', '1f 81 01 00', '30 85 01 02 03 04 05', '30 82 01']) {
      expect(() => readDer(h(bad)), bad).toThrow(PayArgumentError);
    }
    expect(() => derChildren(readDer(h('30 03 02 05 00')))).toThrow(/runs past its parent/);
    expect(() => derOid(readDer(h('06 00')))).toThrow(/empty OID/);
    expect(() => derTime(readDer(Buffer.concat([h('17 0b'), Buffer.from('4912312359+')])))).toThrow(/unsupported time format/);
  });
});
