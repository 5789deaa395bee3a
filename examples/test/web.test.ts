import { createWebHandler } from '../web/handler.mjs';
import { baseUrlOf, closeServer, describeFramework, serveWebHandler } from './helpers.js';

// The shape used by Next.js route handlers, Hono, Bun and Deno, served here through node:http.
describeFramework('Web Request handler example', async (payments, publicUrl) => {
  const server = await serveWebHandler(createWebHandler({ payments, publicUrl }));
  return { url: baseUrlOf(server), close: () => closeServer(server) };
});
