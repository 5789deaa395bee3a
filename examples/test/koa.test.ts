import type { Server } from 'node:http';
import { createKoaApp } from '../koa/app.mjs';
import { baseUrlOf, closeServer, describeFramework } from './helpers.js';

describeFramework('Koa example', async (payments, publicUrl) => {
  const server: Server = createKoaApp({ payments, publicUrl }).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { url: baseUrlOf(server), close: () => closeServer(server) };
});
