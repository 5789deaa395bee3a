// A complete payment backend on plain node:http: the ledger answers every route
// in the result contract, and notifications are verified over their raw bodies.
//
//   POST /api/payments                 { provider, channel, amount, subject, productId? } → create
//   GET  /api/payments/:id             the record and its events
//   POST /api/payments/:id/confirm     the client says it paid: store, else active query
//   POST /api/payments/:id/proof       { proof }: an Apple signed transaction
//   POST /api/payments/:id/refund      { amount, reason }
//   GET  /api/iap/products             the product ids the app may ask StoreKit for
//   POST /api/iap/restore              { transactionId } → current entitlements
//   POST /notify/:provider             provider callbacks (Alipay, WeChat Pay, UnionPay, App Store)
import { createServer } from 'node:http';
import { fromNodeRequest, PayArgumentError, payFailure, payOk, toPayResult, writeNodeReply } from '@pay/core';

const MAX_JSON = 64 * 1024;

async function readJson(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_JSON) throw new PayArgumentError('request body too large');
    chunks.push(chunk);
  }
  if (size === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (e) {
    throw new PayArgumentError('request body is not JSON', { cause: e });
  }
}

function sendJson(res, result) {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(result));
}

/**
 * The request handler.
 *
 * @param {{ payments: import('@pay/core').Payments, iap?: import('@pay/iap').IapClient, publicUrl: () => string }} app
 */
export function createBackend({ payments, iap, publicUrl }) {
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://backend');
    const parts = url.pathname.split('/').filter(Boolean);
    try {
      if (req.method === 'POST' && parts[0] === 'notify' && parts.length === 2) {
        const { reply } = await payments.handleNotification(parts[1], await fromNodeRequest(req));
        return writeNodeReply(res, reply);
      }
      if (parts[0] !== 'api') return sendJson(res, payFailure(new PayArgumentError(`no route ${req.method} ${url.pathname}`)));
      if (req.method === 'GET' && parts[1] === 'iap' && parts[2] === 'products') {
        return sendJson(
          res,
          payOk({
            products: (iap?.catalogue.list() ?? []).map((p) => ({
              productId: p.productId,
              type: p.type,
              amount: p.amount,
              currency: p.currency,
            })),
          }),
        );
      }
      if (req.method === 'POST' && parts[1] === 'iap' && parts[2] === 'restore') {
        const { transactionId } = await readJson(req);
        return sendJson(
          res,
          await toPayResult(async () => {
            if (!iap) throw new PayArgumentError('IAP is not configured');
            const restored = await iap.restorePurchases(String(transactionId));
            return { entitlements: restored.entitlements, transactions: restored.transactions.length };
          }),
        );
      }
      if (parts[1] !== 'payments') return sendJson(res, payFailure(new PayArgumentError(`no route ${req.method} ${url.pathname}`)));
      if (req.method === 'POST' && parts.length === 2) {
        const body = await readJson(req);
        return sendJson(res, await payments.create({ ...body, notifyUrl: `${publicUrl()}/notify/${body.provider}` }));
      }
      const id = parts[2];
      if (req.method === 'GET' && parts.length === 3) return sendJson(res, await payments.get(id));
      if (req.method === 'POST' && parts[3] === 'confirm') return sendJson(res, await payments.confirm(id));
      if (req.method === 'POST' && parts[3] === 'proof')
        return sendJson(res, await payments.submitProof(id, String((await readJson(req)).proof ?? '')));
      if (req.method === 'POST' && parts[3] === 'refund') {
        const { amount, reason } = await readJson(req);
        const found = await payments.get(id);
        if (found.result_code !== 0) return sendJson(res, found);
        return sendJson(
          res,
          await payments.refund(id, { amount, reason, notifyUrl: `${publicUrl()}/notify/${found.data.record.provider}` }),
        );
      }
      return sendJson(res, payFailure(new PayArgumentError(`no route ${req.method} ${url.pathname}`)));
    } catch (e) {
      return sendJson(res, payFailure(e));
    }
  };
}

/**
 * Starts the backend on 127.0.0.1 (random port by default).
 *
 * @param {{ payments: import('@pay/core').Payments, iap?: import('@pay/iap').IapClient, port?: number }} options
 */
export async function startBackend(options) {
  let base = '';
  const server = createServer(createBackend({ ...options, publicUrl: () => base }));
  await new Promise((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}`;
  return {
    url: base,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
