import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, it, vi } from 'vitest';
import { createKoaApp } from '../koa/app.mjs';
import { baseUrlOf, type Fixture, runScenario, startFixture } from './helpers.js';

vi.setConfig({ testTimeout: 30_000, hookTimeout: 60_000 });
let fx: Fixture;
let server: Server;

beforeAll(async () => {
  fx = await startFixture();
  let base = '';
  server = createKoaApp({ payments: fx.payments, publicUrl: () => base }).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = baseUrlOf(server);
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await fx.close();
});

describe('Koa example', () => {
  it('keeps raw bodies: form and JSON callbacks verify, a tampered one is refused and recovered by confirm', async () => {
    await runScenario(baseUrlOf(server), fx);
  });
});
