// @pay/alipay: notification verification and APP order signing through the SDK, each against raw
// node:crypto doing the same essential work (decode / sort + join + verify or sign) with the same
// pre-parsed KeyObjects, in the same run. Both ratios must stay >= 0.85.
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { AlipayClient } from '@pay/alipay';

export function cases() {
  const app = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ali = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const appId = '2021000122671080';
  const sellerId = '2088721003899159';
  const fixedNow = Date.UTC(2024, 0, 1, 19, 4, 5);
  const client = new AlipayClient({ appId, privateKey: app.privateKey, alipayPublicKey: ali.publicKey, sellerId, clock: () => fixedNow });

  // a realistic trade_status_sync notification, signed by "Alipay"
  const params = {
    gmt_create: '2024-01-02 03:04:05',
    charset: 'utf-8',
    seller_email: 'shop@example.com',
    subject: '会员 a+b 12个月',
    buyer_id: '2088102534368455',
    invoice_amount: '88.88',
    notify_id: '2024010200222155624068450559358070',
    fund_bill_list: '[{"amount":"88.88","fundChannel":"ALIPAYACCOUNT"}]',
    notify_type: 'trade_status_sync',
    trade_status: 'TRADE_SUCCESS',
    receipt_amount: '88.88',
    buyer_pay_amount: '88.88',
    sign_type: 'RSA2',
    app_id: appId,
    seller_id: sellerId,
    gmt_payment: '2024-01-02 03:04:09',
    notify_time: '2024-01-02 03:04:10',
    version: '1.0',
    out_trade_no: '20240102030405-0001',
    total_amount: '88.88',
    trade_no: '2024010222001468450512505578',
    auth_app_id: appId,
    buyer_logon_id: 'xud***@126.com',
    point_amount: '0.00',
  };
  const content = (p) =>
    Object.keys(p)
      .filter((k) => k !== 'sign' && k !== 'sign_type' && p[k] !== '')
      .sort()
      .map((k) => `${k}=${p[k]}`)
      .join('&');
  const signature = sign('sha256', Buffer.from(content(params)), ali.privateKey).toString('base64');
  const body = new URLSearchParams({ ...params, sign: signature }).toString();
  if (client.verifyNotify(body).notify_id !== params.notify_id) throw new Error('bench notify does not verify');

  const order = {
    out_trade_no: '20240102030405-0001',
    amount: 8888,
    subject: '会员 12个月',
    notify_url: 'https://shop.example.com/alipay/notify',
  };
  const timestamp = '2024-01-02 03:04:05';

  return [
    {
      name: 'alipay verifyNotify (raw form body, RSA2-2048)',
      subject: () => client.verifyNotify(body),
      baseline: () => {
        const p = Object.fromEntries(new URLSearchParams(body));
        if (!verify('sha256', Buffer.from(content(p)), ali.publicKey, Buffer.from(p.sign, 'base64'))) throw new Error('baseline failed');
      },
      minRatio: 0.85,
    },
    {
      name: 'alipay appPay order string (RSA2-2048 sign)',
      subject: () => client.appPay(order),
      baseline: () => {
        const p = {
          method: 'alipay.trade.app.pay',
          app_id: appId,
          charset: 'utf-8',
          version: '1.0',
          sign_type: 'RSA2',
          timestamp,
          notify_url: order.notify_url,
          biz_content: JSON.stringify({
            out_trade_no: order.out_trade_no,
            total_amount: '88.88',
            subject: order.subject,
            product_code: 'QUICK_MSECURITY_PAY',
          }),
        };
        const s = Object.keys(p)
          .sort()
          .map((k) => `${k}=${p[k]}`)
          .join('&');
        p.sign = sign('sha256', Buffer.from(s), app.privateKey).toString('base64');
        return Object.keys(p)
          .map((k) => `${k}=${encodeURIComponent(p[k])}`)
          .join('&');
      },
      minRatio: 0.85,
    },
  ];
}
