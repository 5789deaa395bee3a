// Fastify 5: inside an encapsulated plugin, content-type parsers keep callback
// bodies as Buffers; the rest of the app keeps Fastify's JSON parsing.
import { fromParts } from '@pay/core';
import Fastify from 'fastify';

const CALLBACK_TYPES = ['application/json', 'application/x-www-form-urlencoded', 'text/xml', 'application/xml', 'text/plain'];

/**
 * @param {{ payments: import('@pay/core').Payments, publicUrl: () => string }} options
 */
export function createFastifyApp({ payments, publicUrl }) {
  const app = Fastify();
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    for (const type of CALLBACK_TYPES) {
      scope.addContentTypeParser(type, { parseAs: 'buffer', bodyLimit: 1_048_576 }, (_req, body, done) => done(null, body));
    }
    scope.post('/notify/:provider', async (request, reply) => {
      const incoming = fromParts({
        method: request.method,
        headers: request.headers,
        rawBody: request.body ?? Buffer.alloc(0),
        url: request.url,
      });
      const out = await payments.handleNotification(request.params.provider, incoming);
      return reply.code(out.reply.status).headers(out.reply.headers).send(out.reply.body);
    });
  });
  app.post('/api/payments', async (request) =>
    payments.create({ ...request.body, notifyUrl: `${publicUrl()}/notify/${request.body.provider}` }),
  );
  app.post('/api/payments/:id/confirm', async (request) => payments.confirm(request.params.id));
  return app;
}
