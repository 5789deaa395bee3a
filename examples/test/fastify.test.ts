import { createFastifyApp } from '../fastify/app.mjs';
import { describeFramework } from './helpers.js';

describeFramework('Fastify example', async (payments, publicUrl) => {
  const app = createFastifyApp({ payments, publicUrl });
  const url = (await app.listen({ port: 0, host: '127.0.0.1' })).replace('localhost', '127.0.0.1');
  return { url, close: () => app.close() };
});
