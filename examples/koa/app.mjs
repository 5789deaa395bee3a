// Koa 3: no body parser runs on the notify route; the raw body is read from
// ctx.req by fromNodeRequest. The JSON API reads its own small bodies.
import { fromNodeRequest, PayArgumentError, payFailure } from '@pay/core';
import Koa from 'koa';

async function readJson(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  try {
    return chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
  } catch (e) {
    throw new PayArgumentError('request body is not JSON', { cause: e });
  }
}

/**
 * @param {{ payments: import('@pay/core').Payments, publicUrl: () => string }} options
 */
export function createKoaApp({ payments, publicUrl }) {
  const app = new Koa();
  app.use(async (ctx) => {
    const notify = /^\/notify\/([a-z]+)$/.exec(ctx.path);
    if (ctx.method === 'POST' && notify) {
      const { reply } = await payments.handleNotification(notify[1], await fromNodeRequest(ctx.req));
      ctx.status = reply.status;
      ctx.set(reply.headers);
      ctx.body = reply.body;
      return;
    }
    try {
      if (ctx.method === 'POST' && ctx.path === '/api/payments') {
        const body = await readJson(ctx.req);
        ctx.body = await payments.create({ ...body, notifyUrl: `${publicUrl()}/notify/${body.provider}` });
        return;
      }
      const confirm = /^\/api\/payments\/([^/]+)\/confirm$/.exec(ctx.path);
      if (ctx.method === 'POST' && confirm) {
        ctx.body = await payments.confirm(confirm[1]);
        return;
      }
      ctx.status = 404;
    } catch (e) {
      ctx.body = payFailure(e);
    }
  });
  return app;
}
