import type { Server } from 'node:http';
import { createExpressApp } from '../express/app.mjs';
import { baseUrlOf, closeServer, describeFramework } from './helpers.js';

describeFramework('Express example', async (payments, publicUrl) => {
  const server: Server = createExpressApp({ payments, publicUrl }).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { url: baseUrlOf(server), close: () => closeServer(server) };
});
