// The ledger: handleNotification (verify + find the record + check + compare-and-set +
// event + reply) with the memory store, against the provider's bare verification of the
// same notification (AlipayClient.verifyNotify over the raw body) in the same run.
// Every iteration after the first is a duplicate delivery of the settled payment — the
// path a provider's retries take. Minimum ratio 0.8.
import { generateKeyPairSync, sign } from 'node:crypto';
import { AlipayClient, AlipayProvider } from '@pay/alipay';
import { canonicalString, createPayments, fromParts, MemoryPaymentStore, sampleRecord } from '@pay/core';

export async function cases() {
  const app = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ali = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const appId = '2021000122671080';
  const sellerId = '2088721003899159';
  const client = new AlipayClient({ appId, privateKey: app.privateKey, alipayPublicKey: ali.publicKey, sellerId });
  const store = new MemoryPaymentStore();
  let hooks = 0;
  const payments = createPayments({ providers: { alipay: new AlipayProvider(client) }, store, hooks: { onPaid: () => void hooks++ } });
  const record = sampleRecord({
    provider: 'alipay',
    channel: 'qr',
    outTradeNo: '20260101000000-0001',
    amount: 8888,
    appId,
    merchantId: sellerId,
  });
  await store.create(record);

  const params = {
    gmt_create: '2026-01-01 08:00:05',
    charset: 'utf-8',
    subject: '会员 12个月',
    buyer_id: '2088102534368455',
    notify_id: '2026010100222155624068450559358070',
    notify_type: 'trade_status_sync',
    trade_status: 'TRADE_SUCCESS',
    receipt_amount: '88.88',
    buyer_pay_amount: '88.88',
    sign_type: 'RSA2',
    app_id: appId,
    seller_id: sellerId,
    gmt_payment: '2026-01-01 08:00:09',
    notify_time: '2026-01-01 08:00:10',
    version: '1.0',
    out_trade_no: record.outTradeNo,
    total_amount: '88.88',
    trade_no: '2026010122001468450512505578',
    auth_app_id: appId,
  };
  const signature = sign('sha256', Buffer.from(canonicalString(params, { exclude: ['sign', 'sign_type'] })), ali.privateKey).toString(
    'base64',
  );
  const body = new URLSearchParams({ ...params, sign: signature }).toString();
  const incoming = fromParts({ method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, rawBody: body });
  const first = await payments.handleNotification('alipay', incoming);
  if (first.result.result_code !== 0 || first.result.data.record.state !== 'paid' || hooks !== 1) {
    throw new Error(`bench notification was not applied: ${JSON.stringify(first.result)}`);
  }
  return [
    {
      name: 'ledger handleNotification (alipay, memory store) vs bare verifyNotify',
      subject: async () => {
        const r = await payments.handleNotification('alipay', incoming);
        if (r.reply.body !== 'success') throw new Error('not acknowledged');
      },
      baseline: () => client.verifyNotify(body),
      minRatio: 0.8,
    },
  ];
}
