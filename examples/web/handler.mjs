// A Web `Request` → `Response` handler: the shape of Next.js route handlers,
// Hono, Bun, Deno and Workers. The request body is still unread when it arrives.
import { fromWebRequest, PayArgumentError, payFailure, toWebResponse } from '@pay/core';

const json = (value) => Response.json(value);

/**
 * @param {{ payments: import('@pay/core').Payments, publicUrl: () => string }} options
 * @returns {(request: Request) => Promise<Response>}
 */
export function createWebHandler({ payments, publicUrl }) {
  return async (request) => {
    const { pathname } = new URL(request.url);
    const notify = /^\/notify\/([a-z]+)$/.exec(pathname);
    if (request.method === 'POST' && notify) {
      const { reply } = await payments.handleNotification(notify[1], await fromWebRequest(request));
      return toWebResponse(reply);
    }
    try {
      if (request.method === 'POST' && pathname === '/api/payments') {
        const body = await request.json().catch((e) => {
          throw new PayArgumentError('request body is not JSON', { cause: e });
        });
        return json(await payments.create({ ...body, notifyUrl: `${publicUrl()}/notify/${body.provider}` }));
      }
      const confirm = /^\/api\/payments\/([^/]+)\/confirm$/.exec(pathname);
      if (request.method === 'POST' && confirm) return json(await payments.confirm(confirm[1]));
      return new Response('not found', { status: 404 });
    } catch (e) {
      return json(payFailure(e));
    }
  };
}
