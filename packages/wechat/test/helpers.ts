// Small helpers shared by the @pay/wechat tests.

/** A copy of `data` with one bit of the byte at `index` flipped (negative index counts from the end). */
export function flipByte(data: Uint8Array, index: number, mask = 1): Buffer {
  const out = Buffer.from(data);
  const i = index < 0 ? out.length + index : index;
  out[i] = (out[i] as number) ^ mask;
  return out;
}

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fromNodeRequest, type IncomingNotification, type NotificationReply, writeNodeReply } from '@pay/core';

/** A local notify endpoint on 127.0.0.1 that hands every request to `handle`. */
export interface NotifyServer {
  /** Base URL. */
  url: string;
  /** Requests received, in order. */
  received: IncomingNotification[];
  /** Stops it. */
  close(): Promise<void>;
}

/** Starts a notify endpoint; `handle` builds the reply (a thrown error becomes a 500). */
export async function startNotifyServer(
  handle: (n: IncomingNotification) => Promise<NotificationReply> | NotificationReply,
): Promise<NotifyServer> {
  const received: IncomingNotification[] = [];
  const server = createServer(async (req, res) => {
    const incoming = await fromNodeRequest(req);
    received.push(incoming);
    try {
      writeNodeReply(res, await handle(incoming));
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(e));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Waits until `check` is true (polling), failing after `timeoutMs`. */
export async function waitFor(check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
