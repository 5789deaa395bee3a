import { afterAll, beforeAll, describe, it, vi } from 'vitest';
import { createFastifyApp } from '../fastify/app.mjs';
import { type Fixture, runScenario, startFixture } from './helpers.js';

vi.setConfig({ testTimeout: 30_000, hookTimeout: 60_000 });
let fx: Fixture;
let app: ReturnType<typeof createFastifyApp>;
let base = '';

beforeAll(async () => {
  fx = await startFixture();
  app = createFastifyApp({ payments: fx.payments, publicUrl: () => base });
  base = (await app.listen({ port: 0, host: '127.0.0.1' })).replace('localhost', '127.0.0.1');
});
afterAll(async () => {
  await app.close();
  await fx.close();
});

describe('Fastify example', () => {
  it('keeps raw bodies: form and JSON callbacks verify, a tampered one is refused and recovered by confirm', async () => {
    await runScenario(base, fx);
  });
});
