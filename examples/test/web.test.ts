import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, it, vi } from 'vitest';
import { createWebHandler } from '../web/handler.mjs';
import { baseUrlOf, type Fixture, runScenario, serveWebHandler, startFixture } from './helpers.js';

vi.setConfig({ testTimeout: 30_000, hookTimeout: 60_000 });
let fx: Fixture;
let server: Server;

beforeAll(async () => {
  fx = await startFixture();
  let base = '';
  server = await serveWebHandler(createWebHandler({ payments: fx.payments, publicUrl: () => base }));
  base = baseUrlOf(server);
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await fx.close();
});

describe('Web Request handler example (Next.js route handlers, Hono, Bun, Deno)', () => {
  it('keeps raw bodies: form and JSON callbacks verify, a tampered one is refused and recovered by confirm', async () => {
    await runScenario(baseUrlOf(server), fx);
  });
});
