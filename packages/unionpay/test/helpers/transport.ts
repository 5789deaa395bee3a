import type { HttpRequest, HttpResponse, Transport } from '@pay/core';

/** A transport that records requests and answers with what `answer` returns. */
export function recordingTransport(
  answer: (req: HttpRequest) => { status?: number; body: string | Buffer } | Promise<{ status?: number; body: string | Buffer }>,
): {
  transport: Transport;
  requests: HttpRequest[];
  /** The fields of the n-th request body (decoded as a form; test side only). */
  fields(n?: number): Record<string, string>;
} {
  const requests: HttpRequest[] = [];
  return {
    requests,
    transport: {
      async request(req: HttpRequest): Promise<HttpResponse> {
        requests.push(req);
        const a = await answer(req);
        return { status: a.status ?? 200, headers: {}, body: Buffer.isBuffer(a.body) ? a.body : Buffer.from(a.body, 'utf8') };
      },
    },
    fields(n = requests.length - 1) {
      const body = requests[n]?.body;
      return Object.fromEntries(new URLSearchParams(typeof body === 'string' ? body : Buffer.from(body ?? '').toString('utf8')));
    },
  };
}
