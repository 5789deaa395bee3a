/**
 * Delivers signed notifications to a merchant's `notify_url` the way providers
 * do: POST, retry on anything but the expected success reply, on a schedule,
 * with injectable faults (delay, drop, duplicate, reorder, tamper).
 *
 * @module
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** One notification to deliver. */
export interface OutgoingNotification {
  /** Target URL (the merchant's notify URL). */
  url: string;
  /** Request headers. */
  headers: Record<string, string>;
  /** Request body. */
  body: string;
  /** HTTP method, POST by default. */
  method?: string;
}

/** The merchant's answer to one delivery attempt. */
export interface DeliveryAttempt {
  /** When it was sent, epoch ms. */
  at: number;
  /** HTTP status, or 0 when the connection failed. */
  status: number;
  /** Response body (first 2 KiB). */
  body: string;
  /** Whether the provider counts it as acknowledged. */
  acknowledged: boolean;
  /** Set when this delivery was tampered with or duplicated by a fault. */
  fault?: string;
}

/** The faults a test can inject into the next deliveries. */
export interface NotificationFaults {
  /** Wait this long before each delivery, ms. */
  delayMs?: number;
  /** Drop this many upcoming notifications entirely (never sent, as if lost). */
  drop?: number;
  /** Send each of the next N notifications twice. */
  duplicate?: number;
  /** Tamper with the next N notifications (change a byte of the body, signature left as is). */
  tamper?: number;
  /** Hold back the next N notifications and send them after the one that follows (reordering). */
  reorder?: number;
}

/** Options of {@link Notifier}. */
export interface NotifierOptions {
  /** Delays between attempts, ms (the provider's schedule, scaled for tests). */
  retryDelaysMs: readonly number[];
  /** Whether a reply acknowledges the notification (e.g. Alipay: body `success`). */
  isAcknowledged: (status: number, body: string) => boolean;
  /** How to tamper with a body (default: flip the last digit of the first number found). */
  tamper?: (body: string) => string;
}

function defaultTamper(body: string): string {
  const m = /\d(?=\D*$)/.exec(body);
  if (!m) return `${body} `;
  const i = m.index;
  const d = body[i] === '9' ? '8' : String(Number(body[i]) + 1);
  return body.slice(0, i) + d + body.slice(i + 1);
}

/** Sends one HTTP request to a loopback or test URL; never throws. */
export function postOnce(n: OutgoingNotification): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const u = new URL(n.url);
    const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      u,
      {
        method: n.method ?? 'POST',
        headers: { ...n.headers, 'content-length': String(Buffer.byteLength(n.body)) },
        rejectUnauthorized: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8').slice(0, 2048) }));
        res.on('error', () => resolve({ status: 0, body: '' }));
      },
    );
    req.on('error', (e) => resolve({ status: 0, body: String(e.message) }));
    req.end(n.body);
  });
}

/**
 * Delivers notifications with retries and faults, and records every attempt.
 */
export class Notifier {
  /** Every attempt, in order, with its target. */
  readonly log: Array<DeliveryAttempt & { url: string }> = [];
  /** Faults applied to the next deliveries (mutate freely). */
  faults: NotificationFaults = {};
  private readonly pending = new Set<Promise<void>>();
  private held: OutgoingNotification[] = [];
  private stopped = false;

  /** @param options - retry schedule and acknowledgement rule */
  constructor(private readonly options: NotifierOptions) {}

  /** Queues a notification; delivery (with retries) runs in the background. */
  send(n: OutgoingNotification): void {
    if (this.faults.drop && this.faults.drop > 0) {
      this.faults.drop--;
      this.log.push({ url: n.url, at: Date.now(), status: 0, body: '', acknowledged: false, fault: 'dropped' });
      return;
    }
    if (this.faults.reorder && this.faults.reorder > 0) {
      this.faults.reorder--;
      this.held.push(n);
      return;
    }
    let copies = 1;
    if (this.faults.duplicate && this.faults.duplicate > 0) {
      this.faults.duplicate--;
      copies = 2;
    }
    let body = n.body;
    let fault: string | undefined;
    if (this.faults.tamper && this.faults.tamper > 0) {
      this.faults.tamper--;
      body = (this.options.tamper ?? defaultTamper)(n.body);
      fault = 'tampered';
    }
    for (let i = 0; i < copies; i++) this.track(this.deliver({ ...n, body }, fault ?? (i > 0 ? 'duplicate' : undefined)));
    const held = this.held;
    this.held = [];
    for (const h of held) this.track(this.deliver(h, 'reordered'));
  }

  private track(p: Promise<void>): void {
    this.pending.add(p);
    p.finally(() => this.pending.delete(p));
  }

  private async deliver(n: OutgoingNotification, fault: string | undefined): Promise<void> {
    const delays = [0, ...this.options.retryDelaysMs];
    for (const delay of delays) {
      const wait = delay + (this.faults.delayMs ?? 0);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (this.stopped) return;
      const res = await postOnce(n);
      const acknowledged = this.options.isAcknowledged(res.status, res.body);
      this.log.push({ url: n.url, at: Date.now(), status: res.status, body: res.body, acknowledged, ...(fault ? { fault } : {}) });
      if (acknowledged) return;
    }
  }

  /** Resolves when every delivery in flight has finished (acknowledged or out of retries). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
  }

  /** Stops retrying (in-flight requests finish). */
  stop(): void {
    this.stopped = true;
  }
}
