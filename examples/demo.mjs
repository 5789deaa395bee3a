// pnpm demo: the whole product, offline. Starts the four provider emulators of
// @pay/sandbox and the node:http example backend (ledger + memory store), then
// walks a simulated client through each provider over real HTTP on 127.0.0.1:
//   Alipay, WeChat Pay, UnionPay: create → pay → notification → confirm → refund
//   Apple IAP: valid products → purchase → verify → restore
// It prints the contract JSON of every backend answer and a final table, and
// exits non-zero if any step does not give what it should.

import { startSandboxPayments } from './lib/sandbox.mjs';
import { startBackend } from './node-http/server.mjs';

const started = Date.now();
const quiet = process.argv.includes('--quiet');
const failures = [];
const rows = [];
const hookRuns = new Map();

function short(value) {
  if (typeof value === 'string') return value.length > 72 ? `${value.slice(0, 60)}…(${value.length} chars)` : value;
  if (Array.isArray(value)) return value.map(short);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, short(v)]));
  return value;
}

function show(step, result) {
  if (quiet) return;
  console.log(`\n  ${step}`);
  console.log(`  ${JSON.stringify(short(result), null, 2).replace(/\n/g, '\n  ')}`);
}

function check(provider, what, ok, detail = '') {
  if (!ok) failures.push(`${provider}: ${what}${detail ? ` (${detail})` : ''}`);
  if (!quiet) console.log(`  ${ok ? '✓' : '✗'} ${what}${!ok && detail ? `: ${detail}` : ''}`);
  return ok;
}

const sandbox = await startSandboxPayments({
  hooks: {
    onPaid: (record) => {
      hookRuns.set(record.id, (hookRuns.get(record.id) ?? 0) + 1);
    },
  },
});
const backend = await startBackend({ payments: sandbox.payments, iap: sandbox.clients.iap });
const { alipay, wechat, unionpay, iap } = sandbox.emulators;

async function api(method, path, body) {
  const res = await fetch(`${backend.url}${path}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  return res.json();
}

/** Polls the record until `done(record)` or the time is up (refunds may settle a moment later). */
async function waitForRecord(id, done, ms = 5000) {
  const until = Date.now() + ms;
  for (;;) {
    await sandbox.idle();
    const got = await api('GET', `/api/payments/${id}`);
    if (got.result_code !== 0 || done(got.data.record) || Date.now() > until) return got;
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function standardFlow({ provider, channel, amount, subject, title, pay, refund }) {
  if (!quiet) console.log(`\n━━ ${title} ━━`);
  const created = await api('POST', '/api/payments', { provider, channel, amount, subject });
  show('1. client → POST /api/payments', created);
  if (
    !check(
      provider,
      'create answered result_code 0 with an id',
      created.result_code === 0 && typeof created.id === 'string',
      created.err_detail,
    )
  )
    return;
  const { id } = created;
  const outTradeNo = created.data.outTradeNo;
  await pay(created);
  await sandbox.idle();
  const afterNotify = await api('GET', `/api/payments/${id}`);
  const notifications = afterNotify.data?.events?.filter((e) => e.source === 'notification') ?? [];
  if (!quiet)
    console.log(
      `\n  3. ${provider} notified the backend: ${notifications.length} notification(s), record ${afterNotify.data?.record?.state}`,
    );
  const confirmed = await api('POST', `/api/payments/${id}/confirm`);
  show('4. client → POST /api/payments/:id/confirm', confirmed);
  check(provider, 'confirm says paid', confirmed.result_code === 0 && confirmed.data.record.state === 'paid', confirmed.err_detail);
  const refunded = await api('POST', `/api/payments/${id}/refund`, { amount: refund, reason: '部分退款' });
  show(`5. client → POST /api/payments/:id/refund (${refund} fen)`, refunded);
  check(provider, 'refund accepted', refunded.result_code === 0, refunded.err_detail);
  const final = await waitForRecord(id, (r) => r.state !== 'paid');
  check(provider, 'record ends partially refunded', final.data?.record?.state === 'partially_refunded', final.data?.record?.state);
  check(provider, 'onPaid ran exactly once', hookRuns.get(id) === 1, String(hookRuns.get(id) ?? 0));
  rows.push({
    provider,
    channel,
    outTradeNo,
    amount,
    state: final.data?.record?.state,
    refunded: final.data?.record?.refundedAmount,
    onPaid: hookRuns.get(id) ?? 0,
    confirmedBy: confirmed.data?.source,
    events: final.data?.events?.length ?? 0,
  });
}

try {
  await standardFlow({
    provider: 'alipay',
    channel: 'app',
    amount: 8888,
    subject: 'VIP 会员 (年)',
    title: 'Alipay · APP pay (signed order string → Alipay app → notify_url)',
    refund: 1000,
    pay: async (created) => {
      const trade = alipay.submitOrderString(created.data.client.orderString);
      if (!quiet) console.log(`\n  2. the Alipay app accepted the signed order string (${trade.out_trade_no}) and the buyer paid`);
      alipay.pay(created.data.outTradeNo);
    },
  });

  await standardFlow({
    provider: 'wechat',
    channel: 'app',
    amount: 1999,
    subject: '咖啡',
    title: 'WeChat Pay · APP (v3 prepay → client parameters) — the callback is lost; confirm asks WeChat Pay',
    refund: 999,
    pay: async (created) => {
      wechat.notifier.faults.drop = 1;
      wechat.pay(created.data.outTradeNo);
      if (!quiet)
        console.log(`\n  2. the payer paid in WeChat with prepayid ${created.data.client.prepayid}; the emulator drops the callback`);
    },
  });

  await standardFlow({
    provider: 'unionpay',
    channel: 'app',
    amount: 12000,
    subject: '机票',
    title: 'UnionPay · app (tn for the UnionPay SDK) — the notification is delivered twice',
    refund: 2000,
    pay: async (created) => {
      unionpay.notifier.faults.duplicate = 1;
      unionpay.pay(created.data.outTradeNo);
      if (!quiet) console.log(`\n  2. the payer paid tn ${created.data.client.tn} in the UnionPay SDK`);
    },
  });

  // Apple IAP: the app buys with StoreKit; the backend verifies what Apple signed.
  if (!quiet) console.log('\n━━ Apple IAP · StoreKit 2 (products → purchase → verify → restore) ━━');
  const products = await api('GET', '/api/iap/products');
  show('1. app → GET /api/iap/products', products);
  const product = products.data?.products?.find((p) => p.type === 'non_consumable');
  if (check('iap', 'the catalogue lists a non-consumable', Boolean(product))) {
    const created = await api('POST', '/api/payments', {
      provider: 'iap',
      channel: 'app',
      amount: product.amount,
      currency: product.currency,
      subject: product.productId,
      productId: product.productId,
    });
    show('2. app → POST /api/payments (productId)', created);
    if (
      check(
        'iap',
        'create answered with productId and appAccountToken',
        created.result_code === 0 && Boolean(created.data?.client?.appAccountToken),
        created.err_detail,
      )
    ) {
      const purchase = await iap.pay(created.data.client.appAccountToken, {
        productId: product.productId,
        notifyUrl: `${backend.url}/notify/iap`,
      });
      if (!quiet) console.log(`\n  3. StoreKit bought ${product.productId}; transaction ${purchase.transaction.transactionId}`);
      const verified = await api('POST', `/api/payments/${created.id}/proof`, { proof: purchase.signedTransaction });
      show('4. app → POST /api/payments/:id/proof (signed transaction)', verified);
      check(
        'iap',
        'the signed transaction verified and settled the record',
        verified.result_code === 0 && verified.data.record.state === 'paid',
        verified.err_detail,
      );
      await sandbox.idle();
      const restored = await api('POST', '/api/iap/restore', { transactionId: purchase.transaction.transactionId });
      show('5. app → POST /api/iap/restore (restore purchases)', restored);
      check(
        'iap',
        'restore lists the product as an entitlement',
        restored.result_code === 0 && restored.data.entitlements.some((e) => e.productId === product.productId),
        restored.err_detail,
      );
      const final = await api('GET', `/api/payments/${created.id}`);
      check('iap', 'onPaid ran exactly once (proof + notification)', hookRuns.get(created.id) === 1, String(hookRuns.get(created.id) ?? 0));
      rows.push({
        provider: 'iap',
        channel: 'app',
        outTradeNo: created.data.outTradeNo.slice(0, 13),
        amount: product.amount,
        state: final.data?.record?.state,
        refunded: final.data?.record?.refundedAmount,
        onPaid: hookRuns.get(created.id) ?? 0,
        confirmedBy: 'proof',
        events: final.data?.events?.length ?? 0,
      });
    }
  }
} catch (e) {
  failures.push(`unexpected: ${e instanceof Error ? e.stack : String(e)}`);
} finally {
  await backend.close();
  await sandbox.close();
}

console.log('\n━━ Summary ━━');
console.table(rows);
const seconds = ((Date.now() - started) / 1000).toFixed(1);
if (failures.length > 0) {
  console.error(`\n${failures.length} step(s) failed in ${seconds} s:\n - ${failures.join('\n - ')}`);
  process.exit(1);
}
console.log(`\nAll four flows passed offline in ${seconds} s.`);
