// @pay/wechat: the two hot paths of API v3 against raw node:crypto doing the same essential work with
// the same pre-parsed KeyObjects, in the same run:
//   - callback verify + decrypt: SHA256withRSA over TIMESTAMP\nNONCE\nBODY\n, JSON parse, AES-256-GCM
//     open of the resource (tag checked), JSON parse of the plaintext;
//   - request signing: SHA256withRSA over METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n and the Authorization header.
// Plus the v2 MD5 sign of a typical notification (informational, no minimum).
import { createDecipheriv, createHash, generateKeyPairSync, sign, verify } from 'node:crypto';
import { encryptResource, responseSignMessage, signRequest, v2Sign, WechatPayClient } from '@pay/wechat';

export function cases() {
  const wechat = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const merchant = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const apiV3Key = 'abcdefghijklmnopqrstuvwxyz012345';
  const keyBytes = Buffer.from(apiV3Key);
  const pubKeyId = 'PUB_KEY_ID_0100000000000000000000000000000001';
  const ts = '1750000000';
  const nonce = 'd824f2e086d3c1df967785d13fcd22ef';
  const transaction = {
    mchid: '1900000001',
    appid: 'wxd678efh567hg6787',
    out_trade_no: '1217752501201407033233368018',
    transaction_id: '4200000000201407033233368018',
    trade_type: 'JSAPI',
    trade_state: 'SUCCESS',
    trade_state_desc: '支付成功',
    bank_type: 'CMC',
    attach: '',
    success_time: '2025-06-15T10:34:56+08:00',
    payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
    amount: { total: 100, payer_total: 100, currency: 'CNY', payer_currency: 'CNY' },
  };
  const body = Buffer.from(
    JSON.stringify({
      id: 'EV-2018022511223320873',
      create_time: '2025-06-15T10:34:57+08:00',
      resource_type: 'encrypt-resource',
      event_type: 'TRANSACTION.SUCCESS',
      summary: '支付成功',
      resource: { original_type: 'transaction', ...encryptResource(keyBytes, JSON.stringify(transaction), 'fdasflkja484', 'transaction') },
    }),
  );
  const signature = sign('sha256', responseSignMessage(ts, nonce, body), wechat.privateKey).toString('base64');
  const headers = {
    'wechatpay-timestamp': ts,
    'wechatpay-nonce': nonce,
    'wechatpay-serial': pubKeyId,
    'wechatpay-signature': signature,
    'content-type': 'application/json',
  };
  const client = new WechatPayClient({
    mchid: '1900000001',
    appid: 'wxd678efh567hg6787',
    privateKey: merchant.privateKey,
    merchantSerialNo: '5F1C72E2A8931B72A2E13AF8DEE92471EB397115',
    apiV3Key,
    wechatpayPublicKey: wechat.publicKey,
    wechatpayPublicKeyId: pubKeyId,
    clock: () => Number(ts) * 1000,
  });
  const incoming = { method: 'POST', headers, rawBody: body, query: '' };
  const newline = Buffer.from('\n');

  const rawCallback = () => {
    const h = incoming.headers;
    const message = Buffer.concat([Buffer.from(`${h['wechatpay-timestamp']}\n${h['wechatpay-nonce']}\n`), incoming.rawBody, newline]);
    if (!verify('sha256', message, wechat.publicKey, Buffer.from(h['wechatpay-signature'], 'base64'))) throw new Error('bad signature');
    const envelope = JSON.parse(incoming.rawBody.toString('utf8'));
    const r = envelope.resource;
    const data = Buffer.from(r.ciphertext, 'base64');
    const d = createDecipheriv('aes-256-gcm', keyBytes, Buffer.from(r.nonce), { authTagLength: 16 });
    d.setAuthTag(data.subarray(data.length - 16));
    d.setAAD(Buffer.from(r.associated_data));
    const plain = Buffer.concat([d.update(data.subarray(0, data.length - 16)), d.final()]);
    return JSON.parse(plain.toString('utf8'));
  };

  const request = {
    method: 'POST',
    url: '/v3/pay/transactions/jsapi',
    body: JSON.stringify({
      appid: 'wxd678efh567hg6787',
      mchid: '1900000001',
      description: 'Image形象店-深圳腾大-QQ公仔',
      out_trade_no: '1217752501201407033233368018',
      notify_url: 'https://www.weixin.qq.com/wxpay/pay.php',
      amount: { total: 100, currency: 'CNY' },
      payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
    }),
    timestamp: ts,
    nonce: '593BEC0C930BF1AFEB40B4A08C8FB242',
    mchid: '1900000001',
    serialNo: '5F1C72E2A8931B72A2E13AF8DEE92471EB397115',
  };
  const rawSign = () => {
    const s = sign(
      'sha256',
      Buffer.from(`${request.method}\n${request.url}\n${request.timestamp}\n${request.nonce}\n${request.body}\n`, 'utf8'),
      merchant.privateKey,
    ).toString('base64');
    return `WECHATPAY2-SHA256-RSA2048 mchid="${request.mchid}",nonce_str="${request.nonce}",signature="${s}",timestamp="${request.timestamp}",serial_no="${request.serialNo}"`;
  };
  if (signRequest(merchant.privateKey, request) !== rawSign()) throw new Error('bench: signRequest and the raw baseline disagree');

  const v2Params = {
    appid: 'wx2421b1c4370ec43b',
    bank_type: 'CFT',
    cash_fee: '1',
    fee_type: 'CNY',
    is_subscribe: 'Y',
    mch_id: '10000100',
    nonce_str: '5d2b6c2a8db53831f7eda20af46e531c',
    openid: 'oUpF8uMEb4qRXf22hE3X68TekukE',
    out_trade_no: '1409811653',
    result_code: 'SUCCESS',
    return_code: 'SUCCESS',
    time_end: '20140903131540',
    total_fee: '1',
    trade_type: 'JSAPI',
    transaction_id: '1004400740201409030005092168',
  };
  const v2Key = '192006250b4c09247ec02edce69f6a2d';
  const v2Keys = Object.keys(v2Params).sort();
  const rawV2 = () => {
    let s = '';
    for (const k of v2Keys) if (v2Params[k] !== '') s += `${s ? '&' : ''}${k}=${v2Params[k]}`;
    return createHash('md5').update(`${s}&key=${v2Key}`).digest('hex').toUpperCase();
  };

  return [
    {
      name: 'wechat v3 callback verify+decrypt (RSA-2048, AES-256-GCM)',
      subject: () => client.parseNotification(incoming),
      baseline: async () => rawCallback(),
      minRatio: 0.85,
      note: 'subject: WechatPayClient.parseNotification (window, key by serial, verify, decrypt, typed event); baseline: raw verify + JSON + GCM open + JSON, same async shape',
    },
    {
      name: 'wechat v3 callback verify+decrypt vs a synchronous baseline',
      subject: () => client.parseNotification(incoming),
      baseline: rawCallback,
      note: 'informational: the same raw work without the promise the async API necessarily returns',
    },
    {
      name: 'wechat v3 request signing (Authorization header)',
      subject: () => signRequest(merchant.privateKey, request),
      baseline: rawSign,
      minRatio: 0.85,
    },
    {
      name: 'wechat v2 MD5 sign (payment notification fields)',
      subject: () => v2Sign(v2Params, v2Key, 'MD5'),
      baseline: rawV2,
      note: 'informational: sorting is part of both',
    },
  ];
}
