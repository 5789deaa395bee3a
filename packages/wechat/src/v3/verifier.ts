/**
 * Verification of WeChat Pay's signatures (API responses and callbacks) and the
 * per-client store of verification keys: platform certificates (configured or
 * downloaded, refreshed on a schedule and once — rate-limited — on an unknown
 * serial) and the WeChat Pay public key with its `PUB_KEY_ID_…`.
 *
 * @module
 */
import type { KeyObject } from 'node:crypto';
import {
  assertTimestampWithin,
  type Certificate,
  type Clock,
  PayCertificateError,
  PayError,
  PayReplayError,
  PaySignatureError,
  rsaVerify,
} from '@pay/core';
import { excerpt, PKG } from '../internal.js';
import { responseSignMessage, WECHATPAY_SCHEMA } from './signing.js';

/** The four signature headers WeChat Pay sends with every response and callback (lower-case names). */
export interface SignatureHeaders {
  /** `Wechatpay-Timestamp`: epoch seconds. */
  timestamp: string | undefined;
  /** `Wechatpay-Nonce`. */
  nonce: string | undefined;
  /** `Wechatpay-Signature`: base64. */
  signature: string | undefined;
  /** `Wechatpay-Serial`: platform certificate serial or `PUB_KEY_ID_…`. */
  serial: string | undefined;
  /** `Wechatpay-Signature-Type`, when sent. */
  signatureType?: string | undefined;
}

/** Reads the signature headers from a lower-cased header map. */
export function signatureHeadersOf(headers: Readonly<Record<string, string | undefined>>): SignatureHeaders {
  return {
    timestamp: headers['wechatpay-timestamp'],
    nonce: headers['wechatpay-nonce'],
    signature: headers['wechatpay-signature'],
    serial: headers['wechatpay-serial'],
    signatureType: headers['wechatpay-signature-type'],
  };
}

/** Normalises a certificate serial for lookups: upper case, no leading zeros. */
export function normaliseSerial(serial: string): string {
  return serial
    .trim()
    .toUpperCase()
    .replace(/^0+(?=.)/, '');
}

/** Prefix of the probe signatures WeChat Pay sends to check that merchants verify. */
export const SIGNTEST_PREFIX = 'WECHATPAY/SIGNTEST/';

/** Options of {@link PlatformKeyStore}. */
export interface PlatformKeyStoreOptions {
  /** Configured platform certificates (trusted by configuration). */
  certificates: readonly Certificate[];
  /** The WeChat Pay public key and its id, when configured. */
  publicKey?: { id: string; key: KeyObject } | undefined;
  /** Downloads the current platform certificates; absent when downloads are off. */
  download?: (() => Promise<Certificate[]>) | undefined;
  /** The clock. */
  clock: Clock;
  /** How often downloaded certificates are refreshed, ms. */
  refreshIntervalMs: number;
  /** Shortest time between two refreshes caused by an unknown serial (or a failed refresh), ms. */
  unknownSerialIntervalMs: number;
}

/**
 * The verification keys of one client. Never shared across clients: each
 * merchant has its own platform certificates and APIv3 key.
 */
export class PlatformKeyStore {
  private readonly configured = new Map<string, Certificate>();
  private downloaded = new Map<string, Certificate>();
  private lastDownloadAt: number | undefined;
  private lastFailedAt: number | undefined;
  private lastUnknownAt: number | undefined;
  private inflight: Promise<void> | undefined;
  /** Number of completed downloads (for diagnostics and tests). */
  downloads = 0;

  /** @param options - configured material, downloader, clock and intervals */
  constructor(private readonly options: PlatformKeyStoreOptions) {
    for (const c of options.certificates) this.configured.set(normaliseSerial(c.serialHex), c);
  }

  /** True when this store can download certificates. */
  get canDownload(): boolean {
    return this.options.download !== undefined;
  }

  /** The WeChat Pay public key id, when configured. */
  get publicKeyId(): string | undefined {
    return this.options.publicKey?.id;
  }

  /** Every platform certificate currently known (configured and downloaded). */
  certificates(): Certificate[] {
    const all = new Map(this.configured);
    for (const [k, v] of this.downloaded) all.set(k, v);
    return [...all.values()];
  }

  /** Downloads now (single flight), replacing the downloaded set. */
  async refresh(): Promise<void> {
    const download = this.options.download;
    if (!download) return;
    if (!this.inflight) {
      this.inflight = (async () => {
        try {
          const certs = await download();
          const next = new Map<string, Certificate>();
          for (const c of certs) next.set(normaliseSerial(c.serialHex), c);
          this.downloaded = next;
          this.lastDownloadAt = this.options.clock();
          this.downloads++;
        } finally {
          this.inflight = undefined;
        }
      })();
    }
    return this.inflight;
  }

  /** Adds certificates that were just downloaded and authenticated elsewhere (the certificate download itself). */
  accept(certs: readonly Certificate[]): void {
    const next = new Map<string, Certificate>();
    for (const c of certs) next.set(normaliseSerial(c.serialHex), c);
    this.downloaded = next;
    this.lastDownloadAt = this.options.clock();
  }

  private async refreshIfDue(): Promise<void> {
    if (!this.options.download) return;
    const now = this.options.clock();
    if (this.lastDownloadAt !== undefined && now - this.lastDownloadAt < this.options.refreshIntervalMs) return;
    if (this.lastFailedAt !== undefined && now - this.lastFailedAt < this.options.unknownSerialIntervalMs) return;
    try {
      await this.refresh();
    } catch (e) {
      // A failed scheduled refresh keeps the cached certificates (and is retried after the
      // rate-limit interval); with nothing cached it is fatal.
      this.lastFailedAt = now;
      if (this.configured.size + this.downloaded.size === 0) throw e;
    }
  }

  private lookup(serial: string): Certificate | undefined {
    const key = normaliseSerial(serial);
    return this.downloaded.get(key) ?? this.configured.get(key);
  }

  private usable(cert: Certificate, what: string): KeyObject {
    const now = this.options.clock();
    if (!cert.isValidAt(now)) {
      const expired = now > cert.notAfter;
      throw new PayCertificateError(
        `${PKG}: ${what}: platform certificate ${cert.serialHex} ${expired ? `expired at ${new Date(cert.notAfter).toISOString()}` : `is not valid before ${new Date(cert.notBefore).toISOString()}`}; checked at ${new Date(now).toISOString()}`,
        { reason: expired ? 'EXPIRED' : 'NOT_YET_VALID', provider: 'wechat' },
      );
    }
    return cert.publicKey;
  }

  /**
   * The key for a serial when it is known now without any download (the hot path of callbacks):
   * the public key by its id, or a cached, currently valid certificate while no refresh is due.
   * Undefined means: ask {@link PlatformKeyStore.keyFor}.
   */
  keyForNow(serial: string): KeyObject | undefined {
    const pub = this.options.publicKey;
    if (pub && serial === pub.id) return pub.key;
    if (this.options.download) {
      const now = this.options.clock();
      if (this.lastDownloadAt === undefined || now - this.lastDownloadAt >= this.options.refreshIntervalMs) return undefined;
    }
    const cert = this.lookup(serial);
    if (!cert?.isValidAt(this.options.clock())) return undefined;
    return cert.publicKey;
  }

  /**
   * The key for a `Wechatpay-Serial`: the public key when the serial is its id,
   * else the platform certificate with that serial (downloading once, rate-limited,
   * when it is unknown).
   *
   * @throws PayCertificateError for an unknown serial or an expired certificate
   */
  async keyFor(serial: string, what: string): Promise<KeyObject> {
    const pub = this.options.publicKey;
    if (pub && serial === pub.id) return pub.key;
    if (serial.startsWith('PUB_KEY_ID_')) {
      throw new PayCertificateError(
        `${PKG}: ${what}: signed with WeChat Pay public key ${excerpt(serial)} but ${pub ? `the configured one is ${pub.id}` : 'no wechatpayPublicKey is configured'}`,
        {
          reason: 'UNKNOWN_SERIAL',
          provider: 'wechat',
          hint: 'set wechatpayPublicKey and wechatpayPublicKeyId (商户平台 → API安全 → 微信支付公钥)',
        },
      );
    }
    await this.refreshIfDue();
    const found = this.lookup(serial);
    if (found) return this.usable(found, what);
    const known = this.certificates().map((c) => c.serialHex);
    if (!this.options.download) {
      throw new PayCertificateError(
        `${PKG}: ${what}: unknown platform certificate serial ${excerpt(serial)}; known: ${known.length ? known.join(', ') : 'none'}${pub ? ` and public key ${pub.id}` : ''} (certificate download is off)`,
        { reason: 'UNKNOWN_SERIAL', provider: 'wechat' },
      );
    }
    const now = this.options.clock();
    if (this.lastUnknownAt !== undefined && now - this.lastUnknownAt < this.options.unknownSerialIntervalMs) {
      throw new PayCertificateError(
        `${PKG}: ${what}: unknown platform certificate serial ${excerpt(serial)}; known: ${known.join(', ') || 'none'}; not downloading again: the last refresh for an unknown serial was ${Math.round((now - this.lastUnknownAt) / 1000)} s ago (at most one per ${Math.round(this.options.unknownSerialIntervalMs / 1000)} s)`,
        { reason: 'UNKNOWN_SERIAL', provider: 'wechat', retryable: true },
      );
    }
    this.lastUnknownAt = now;
    await this.refresh();
    const after = this.lookup(serial);
    if (after) return this.usable(after, what);
    throw new PayCertificateError(
      `${PKG}: ${what}: unknown platform certificate serial ${excerpt(serial)}, also after downloading the current certificates (${this.certificates()
        .map((c) => c.serialHex)
        .join(', ')})`,
      { reason: 'UNKNOWN_SERIAL', provider: 'wechat' },
    );
  }

  /**
   * The key the client verifies with and encrypts sensitive fields for, and its
   * id for the `Wechatpay-Serial` request header: the public key when configured,
   * else the newest valid platform certificate.
   *
   * @throws PayCertificateError when there is none
   */
  async preferred(): Promise<{ serial: string; key: KeyObject }> {
    const pub = this.options.publicKey;
    if (pub) return { serial: pub.id, key: pub.key };
    await this.refreshIfDue();
    const now = this.options.clock();
    let best: Certificate | undefined;
    for (const c of this.certificates()) if (c.isValidAt(now) && (!best || c.notBefore > best.notBefore)) best = c;
    if (!best) {
      throw new PayCertificateError(
        `${PKG}: no valid platform certificate (known: ${
          this.certificates()
            .map((c) => c.serialHex)
            .join(', ') || 'none'
        }) and no WeChat Pay public key configured${this.lastFailedAt !== undefined ? '; the last certificate download failed' : ''}`,
        { reason: 'NO_KEY', provider: 'wechat' },
      );
    }
    return { serial: best.serialHex, key: best.publicKey };
  }
}

/** Options of {@link verifyWechatSignature}. */
export interface VerifySignatureOptions {
  /** The clock the timestamp is checked against. */
  clock: Clock;
  /** Allowed distance of `Wechatpay-Timestamp` from the clock, seconds (default 300). */
  windowSeconds?: number;
  /** What is verified, for messages (`callback`, `response to GET /v3/…`). */
  what: string;
}

const HEADER_NAMES = {
  timestamp: 'Wechatpay-Timestamp',
  nonce: 'Wechatpay-Nonce',
  signature: 'Wechatpay-Signature',
  serial: 'Wechatpay-Serial',
} as const;

/**
 * The checks that need no key: all four headers present, the signature type (when sent) is
 * `WECHATPAY2-SHA256-RSA2048`, and the timestamp lies within the window of the clock.
 *
 * @throws PaySignatureError for a missing header or another signature type; PayReplayError outside the window
 */
export function checkSignatureHeaders(headers: SignatureHeaders, options: VerifySignatureOptions): void {
  const { what } = options;
  if (!headers.timestamp || !headers.nonce || !headers.signature || !headers.serial) {
    const missing = (Object.keys(HEADER_NAMES) as Array<keyof typeof HEADER_NAMES>).filter((k) => !headers[k]).map((k) => HEADER_NAMES[k]);
    throw new PaySignatureError(
      `${PKG}: ${what}: expected the headers Wechatpay-Timestamp, -Nonce, -Signature and -Serial; missing or empty: ${missing.join(', ')}`,
      { reason: 'MISSING_SIGNATURE', provider: 'wechat' },
    );
  }
  if (headers.signatureType !== undefined && headers.signatureType !== '' && headers.signatureType !== WECHATPAY_SCHEMA) {
    throw new PaySignatureError(
      `${PKG}: ${what}: expected Wechatpay-Signature-Type ${WECHATPAY_SCHEMA}, got ${excerpt(headers.signatureType)}`,
      {
        reason: 'WRONG_SIGN_TYPE',
        provider: 'wechat',
      },
    );
  }
  try {
    assertTimestampWithin(headers.timestamp, options.clock, options.windowSeconds ?? 300, 'Wechatpay-Timestamp');
  } catch (e) {
    if (e instanceof PayError) {
      throw new PayReplayError(`${PKG}: ${what}: ${e.message.replace(/^@pay\/core: /, '')}`, { cause: e, provider: 'wechat' });
    }
    throw e;
  }
}

/**
 * Checks the SHA256withRSA signature over `TIMESTAMP\nNONCE\nBODY\n` with the key chosen for the
 * serial; probe signatures (`WECHATPAY/SIGNTEST/…`) fail with reason `SIGNTEST`. Call
 * {@link checkSignatureHeaders} first.
 *
 * @throws PaySignatureError when it does not verify
 */
export function verifySignatureWithKey(headers: SignatureHeaders, body: string | Uint8Array, key: KeyObject, what: string): void {
  const signature = headers.signature as string;
  if (signature.startsWith(SIGNTEST_PREFIX)) {
    throw new PaySignatureError(`${PKG}: ${what}: the signature is a WeChat Pay probe (${SIGNTEST_PREFIX}…) and does not verify`, {
      reason: 'SIGNTEST',
      provider: 'wechat',
      hint: 'WeChat Pay sends probe signatures to check that merchants verify; rejecting them is the expected answer',
    });
  }
  const message = responseSignMessage(headers.timestamp as string, headers.nonce as string, body);
  if (!rsaVerify('sha256', key, message, signature)) {
    throw new PaySignatureError(
      `${PKG}: ${what}: the signature does not verify with the key for Wechatpay-Serial ${excerpt(headers.serial as string)} over the raw body (${typeof body === 'string' ? Buffer.byteLength(body) : body.length} bytes); a changed byte, another key, or a parsed and re-serialised JSON body does not verify`,
      {
        reason: 'BAD_SIGNATURE',
        provider: 'wechat',
        hint: 'verify the body exactly as received: a parsed and re-serialised JSON body (different spacing, key order or escaping) no longer matches the signature',
      },
    );
  }
}

/**
 * Verifies a WeChat Pay signature over the raw body: the scheme, the timestamp
 * window, the key chosen by `Wechatpay-Serial` and SHA256withRSA over
 * `TIMESTAMP\nNONCE\nBODY\n`. Probe signatures (`WECHATPAY/SIGNTEST/…`) fail.
 *
 * @example
 * ```ts
 * await verifyWechatSignature(signatureHeadersOf(req.headers), rawBody, () => platformKey, { clock: Date.now, what: 'callback' });
 * ```
 * @param headers - the signature headers
 * @param body - the raw body exactly as received
 * @param keyFor - resolves the key for a serial
 * @param options - clock, window and a label
 * @throws PaySignatureError, PayReplayError, PayCertificateError
 */
export async function verifyWechatSignature(
  headers: SignatureHeaders,
  body: string | Uint8Array,
  keyFor: (serial: string) => Promise<KeyObject> | KeyObject,
  options: VerifySignatureOptions,
): Promise<void> {
  checkSignatureHeaders(headers, options);
  verifySignatureWithKey(headers, body, await keyFor(headers.serial as string), options.what);
}
