// Express 5: the notify route reads the raw body with express.raw() and is
// registered before express.json(), so the JSON parser never touches callbacks.
import { fromParts } from '@pay/core';
import express from 'express';

/**
 * @param {{ payments: import('@pay/core').Payments, publicUrl: () => string }} options
 */
export function createExpressApp({ payments, publicUrl }) {
  const app = express();
  app.post('/notify/:provider', express.raw({ type: () => true, limit: '1mb' }), async (req, res) => {
    const rawBody = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const incoming = fromParts({ method: req.method, headers: req.headers, rawBody, url: req.originalUrl });
    const { reply } = await payments.handleNotification(req.params.provider, incoming);
    res.status(reply.status).set(reply.headers).send(reply.body);
  });
  app.use(express.json());
  app.post('/api/payments', async (req, res) => {
    res.json(await payments.create({ ...req.body, notifyUrl: `${publicUrl()}/notify/${req.body.provider}` }));
  });
  app.post('/api/payments/:id/confirm', async (req, res) => {
    res.json(await payments.confirm(req.params.id));
  });
  return app;
}
