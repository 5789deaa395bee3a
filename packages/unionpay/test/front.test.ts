// Web / WAP payments: an auto-submitting HTML form to frontTransReq.do with signed,
// HTML-escaped values.
import { createHash, createVerify } from 'node:crypto';
import { fixedClock } from '@pay/core';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { escapeHtml, UnionPayClient } from '../src/index.js';
import { type Hierarchy, makeHierarchy, referenceSigningString } from './helpers/pki.js';
import { configFor } from './helpers/setup.js';

vi.setConfig({ hookTimeout: 30_000, testTimeout: 20_000 });

let h: Hierarchy;
let client: UnionPayClient;
beforeAll(() => {
  h = makeHierarchy();
  client = new UnionPayClient(configFor(h, { clock: fixedClock(Date.UTC(2026, 0, 5, 6, 50, 46)) }));
});

function inputsOf(html: string): Record<string, string> {
  const out: Record<string, string> = {};
  const unescapeHtml = (s: string) =>
    s
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&');
  for (const m of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g))
    out[unescapeHtml(m[1] as string)] = unescapeHtml(m[2] as string);
  return out;
}

describe('frontConsume', () => {
  it('builds a signed form for frontTransReq.do that posts itself; default txnTime is the clock in Beijing time', () => {
    const form = client.frontConsume({
      orderId: 'W2026010500001',
      txnAmt: 8888,
      backUrl: 'https://shop.example/unionpay/notify',
      frontUrl: 'https://shop.example/unionpay/return?order=W2026010500001&x="<script>"',
      reqReserved: `it's <b>&"quoted"`,
      extra: { riskRateInfo: '{commodityName=测试商品}' },
    });
    expect(form.action).toBe('https://gateway.test.95516.com/gateway/api/frontTransReq.do');
    expect(form.txnTime).toBe('20260105145046');
    expect(form.fields).toMatchObject({
      txnType: '01',
      txnSubType: '01',
      bizType: '000201',
      channelType: '07',
      currencyCode: '156',
      txnAmt: '8888',
      accessType: '0',
    });
    expect(form.html).toContain('action="https://gateway.test.95516.com/gateway/api/frontTransReq.do"');
    expect(form.html).toMatch(/<script>document\.getElementById\('unionpay_form'\)\.submit\(\);<\/script>/);
    expect(form.html).not.toContain('"<script>"');
    expect(form.html).not.toContain('<b>');
    expect(inputsOf(form.html)).toEqual(form.fields);
    // the signature verifies with the merchant certificate, as the gateway checks it
    const digest = createHash('sha256').update(referenceSigningString(form.fields)).digest('hex');
    expect(
      createVerify('RSA-SHA256')
        .update(digest)
        .verify(h.merchant.publicKey, form.fields.signature as string, 'base64'),
    ).toBe(true);
  });

  it('WAP uses channelType 08; pre-authorisation uses txnType 02', () => {
    const wap = client.frontConsume({
      orderId: 'W2026010500002',
      txnAmt: 1,
      backUrl: 'https://s.example/n',
      frontUrl: 'https://s.example/r',
      channelType: '08',
    });
    expect(wap.fields.channelType).toBe('08');
    const pre = client.frontPreAuth({
      orderId: 'W2026010500003',
      txnAmt: 1,
      backUrl: 'https://s.example/n',
      frontUrl: 'https://s.example/r',
      payTimeout: '20260105150500',
    });
    expect(pre.fields).toMatchObject({ txnType: '02', txnSubType: '01', payTimeout: '20260105150500' });
  });

  it('does not change the caller’s parameters', () => {
    const params = {
      orderId: 'W2026010500004',
      txnAmt: 1,
      backUrl: 'https://s.example/n',
      frontUrl: 'https://s.example/r',
      extra: { a: ' x ' },
    };
    const copy = structuredClone(params);
    const form = client.frontConsume(params);
    expect(params).toEqual(copy);
    expect(form.fields.a).toBe('x');
  });
});

describe('escapeHtml', () => {
  it('escapes the five HTML special characters', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});
