/**
 * Configuration of {@link AlipayClient}: validated once, at construction, with
 * precise errors; keys and certificates are parsed here and never again.
 *
 * @module
 */
import type { KeyObject } from 'node:crypto';
import {
  assertSecureUrl,
  type Certificate,
  type Clock,
  defaultNonce,
  getDefaultTransport,
  type KeyInput,
  loadPrivateKey,
  loadPublicKey,
  md5Hex,
  type NonceSource,
  PayConfigError,
  parseCertificates,
  publicKeyOf,
  type RsaHash,
  samePublicKey,
  systemClock,
  type Transport,
} from '@pay/core';
import { PREFIX } from './errors.js';

/** Alipay signature types: `RSA2` (SHA256withRSA, the default) or the legacy `RSA` (SHA1withRSA). */
export type AlipaySignType = 'RSA2' | 'RSA';

/** Where OpenAPI calls go: Alipay production, the Alipay sandbox, or a URL of a `gateway.do` (e.g. the local emulator). */
export type AlipayGateway = 'production' | 'sandbox' | (string & {});

/** Known gateways (`gateway.do`) and OpenAPI v3 endpoints. */
export const ALIPAY_GATEWAYS: Readonly<Record<'production' | 'sandbox', AlipayEndpoints>> = {
  production: { gateway: 'https://openapi.alipay.com/gateway.do', endpoint: 'https://openapi.alipay.com' },
  sandbox: { gateway: 'https://openapi-sandbox.dl.alipaydev.com/gateway.do', endpoint: 'https://openapi-sandbox.dl.alipaydev.com' },
};

/** The two URLs of an Alipay environment. */
export interface AlipayEndpoints {
  /** The OpenAPI `gateway.do` URL. */
  readonly gateway: string;
  /** The base URL of OpenAPI v3 calls. */
  readonly endpoint: string;
}

/** A certificate as text (PEM), base64 DER or DER bytes. */
export type CertificateInput = string | Uint8Array;

/**
 * Everything {@link AlipayClient} needs. Give either `alipayPublicKey`
 * (public-key mode, 公钥模式) or `appCert` + `alipayPublicCert` + `alipayRootCert`
 * (public-key-certificate mode, 公钥证书模式), never both.
 */
export interface AlipayConfig {
  /** The app id (16 digits, from the open platform console); not the PID (2088…). */
  appId: string;
  /** The app private key (应用私钥): PEM PKCS#1/PKCS#8, bare base64 as the key tool prints it, or a `KeyObject`. */
  privateKey: KeyInput;
  /** Public-key mode: the Alipay public key (支付宝公钥), not the app public key. */
  alipayPublicKey?: KeyInput;
  /** Certificate mode: the app public-key certificate (appCertPublicKey_xxx.crt). */
  appCert?: CertificateInput;
  /**
   * Certificate mode: the Alipay public-key certificate (alipayCertPublicKey_RSA2.crt). During a
   * rotation give several (current first); responses pick one by `alipay_cert_sn`.
   */
  alipayPublicCert?: CertificateInput | readonly CertificateInput[];
  /** Certificate mode: the Alipay root certificate bundle (alipayRootCert.crt). */
  alipayRootCert?: CertificateInput;
  /** `RSA2` (default) or `RSA`; it must match the console. Never taken from a message. */
  signType?: AlipaySignType;
  /** The AES key for content encryption (`encrypt_type=AES`): the base64 text from the console (16 bytes). */
  encryptKey?: string;
  /** `production` (default), `sandbox`, or the URL of a `gateway.do` (https, or http to 127.0.0.1). */
  gateway?: AlipayGateway;
  /** Base URL of OpenAPI v3 calls; derived from `gateway` when absent. */
  endpoint?: string;
  /** The merchant's PID (2088…): notifications whose `seller_id` differs are rejected. */
  sellerId?: string;
  /** The HTTP transport; core's axios transport by default. */
  transport?: Transport;
  /** Timeout of each gateway call, ms (default: the transport's). */
  timeoutMs?: number;
  /** The clock (request timestamps, v3 response windows). */
  clock?: Clock;
  /** The nonce source of v3 requests. */
  nonce?: NonceSource;
  /** Allowed distance of a v3 response's `alipay-timestamp` from the clock, seconds (default 300). */
  v3TimestampWindowSeconds?: number;
}

/** One Alipay verification key, with its certificate SN in certificate mode. */
export interface AlipayVerifyKey {
  /** The public key. */
  key: KeyObject;
  /** `alipay_cert_sn` of its certificate (certificate mode). */
  sn?: string;
}

/** The validated configuration: parsed keys, SNs, resolved URLs. */
export interface ResolvedAlipayConfig {
  /** The app id. */
  appId: string;
  /** The parsed app private key. */
  privateKey: KeyObject;
  /** The configured sign type. */
  signType: AlipaySignType;
  /** The hash behind `signType`. */
  hash: RsaHash;
  /** `key` (public-key mode) or `cert` (certificate mode). */
  mode: 'key' | 'cert';
  /** Alipay's keys, current first. */
  alipayKeys: readonly AlipayVerifyKey[];
  /** `app_cert_sn` (certificate mode). */
  appCertSn?: string;
  /** `alipay_root_cert_sn` (certificate mode). */
  alipayRootCertSn?: string;
  /** The AES key bytes. */
  encryptKey?: Buffer;
  /** The `gateway.do` URL. */
  gateway: string;
  /** The v3 base URL. */
  endpoint: string;
  /** The merchant PID, when configured. */
  sellerId?: string;
  /** The transport. */
  transport: Transport;
  /** Per-call timeout. */
  timeoutMs?: number;
  /** The clock. */
  clock: Clock;
  /** The nonce source. */
  nonce: NonceSource;
  /** v3 timestamp window, seconds. */
  v3WindowSeconds: number;
}

function fail(message: string, hint?: string): never {
  throw new PayConfigError(`${PREFIX} ${message}`, hint === undefined ? {} : { hint });
}

/**
 * The certificate SN Alipay uses (`app_cert_sn`, `alipay_cert_sn`): MD5 of the
 * issuer DN in reverse order followed by the decimal serial number.
 *
 * @example
 * ```ts
 * alipayCertSn(parseCertificate(readFileSync('appCertPublicKey.crt'))); // '866efef280dec9137a87d047ac446315'
 * ```
 */
export function alipayCertSn(cert: Certificate): string {
  return md5Hex(cert.issuerName({ order: 'reverse' }) + cert.serialDecimal);
}

const RSA_SIGNATURE_OID_PREFIX = '1.2.840.113549.1.1.';

/**
 * `alipay_root_cert_sn`: the SNs of the RSA-signed certificates of the root
 * bundle joined with `_` (the SM2 root in the bundle is skipped).
 *
 * @throws PayConfigError when the bundle has no RSA-signed certificate
 */
export function alipayRootCertSn(bundle: readonly Certificate[]): string {
  const sns = bundle.filter((c) => c.signatureAlgorithmOid.startsWith(RSA_SIGNATURE_OID_PREFIX)).map(alipayCertSn);
  if (sns.length === 0) fail('alipayRootCert: expected a bundle with at least one RSA-signed certificate, found none');
  return sns.join('_');
}

function certificates(input: CertificateInput, label: string): Certificate[] {
  if (input === undefined || input === null || (typeof input === 'string' && input.trim() === ''))
    fail(`${label}: expected a certificate, got nothing`);
  try {
    return parseCertificates(input);
  } catch (e) {
    throw new PayConfigError(
      `${PREFIX} ${label}: expected a certificate (PEM .crt content), ${e instanceof Error ? e.message : String(e)}`,
      {
        cause: e,
      },
    );
  }
}

function resolveUrls(gateway: AlipayGateway | undefined, endpoint: string | undefined): { gateway: string; endpoint: string } {
  const g = gateway ?? 'production';
  let out: { gateway: string; endpoint: string };
  if (g === 'production' || g === 'sandbox') out = { ...ALIPAY_GATEWAYS[g as 'production' | 'sandbox'] };
  else {
    let url: URL;
    try {
      url = assertSecureUrl(g);
    } catch (e) {
      throw new PayConfigError(
        `${PREFIX} gateway: expected 'production', 'sandbox' or an https URL of gateway.do, got ${JSON.stringify(g)}`,
        {
          cause: e,
        },
      );
    }
    out = { gateway: url.toString(), endpoint: url.origin };
  }
  if (endpoint !== undefined) {
    try {
      out.endpoint = assertSecureUrl(endpoint).toString().replace(/\/$/, '');
    } catch (e) {
      throw new PayConfigError(`${PREFIX} endpoint: expected an https URL, got ${JSON.stringify(endpoint)}`, { cause: e });
    }
  }
  return out;
}

/**
 * Validates a configuration and parses its keys and certificates.
 *
 * @throws PayConfigError naming the setting, what was expected and what was found
 */
export function resolveAlipayConfig(config: AlipayConfig): ResolvedAlipayConfig {
  if (config === null || typeof config !== 'object') fail('expected a configuration object');
  const appId = config.appId;
  if (typeof appId !== 'string' || appId.trim() === '') fail('appId: expected the app id (16 digits), got nothing');
  if (!/^\d{8,32}$/.test(appId))
    fail(`appId: expected the app id in digits (e.g. 2021000122671080), got ${JSON.stringify(appId.slice(0, 40))}`);
  if (/^2088\d{12}$/.test(appId)) {
    fail(
      `appId: ${appId} looks like a PID (partner id, 2088…), not an app id`,
      'the app id is on the app page of the open platform console; the PID belongs in sellerId',
    );
  }
  const signType = config.signType ?? 'RSA2';
  if (signType !== 'RSA2' && signType !== 'RSA') fail(`signType: expected 'RSA2' or 'RSA', got ${JSON.stringify(signType)}`);
  const hash: RsaHash = signType === 'RSA2' ? 'sha256' : 'sha1';

  const privateKey = loadPrivateKey(config.privateKey, { label: 'privateKey' });
  if (privateKey.asymmetricKeyType !== 'rsa') fail(`privateKey: expected an RSA private key, got ${privateKey.asymmetricKeyType}`);
  const bits = privateKey.asymmetricKeyDetails?.modulusLength ?? 0;
  if (signType === 'RSA2' && bits < 2048) fail(`privateKey: RSA2 needs a 2048-bit key, got ${bits} bits`);
  const appPublic = publicKeyOf(privateKey);

  const certMode = config.appCert !== undefined || config.alipayPublicCert !== undefined || config.alipayRootCert !== undefined;
  const keyMode = config.alipayPublicKey !== undefined;
  if (certMode && keyMode) {
    fail(
      'expected either alipayPublicKey (public-key mode) or appCert + alipayPublicCert + alipayRootCert (certificate mode), got both',
      'use the mode set for this app in the console (开发设置 → 接口加签方式)',
    );
  }
  if (!certMode && !keyMode) {
    fail(
      'expected alipayPublicKey (public-key mode) or appCert + alipayPublicCert + alipayRootCert (certificate mode), got neither: responses and notifications could not be verified',
    );
  }

  const out: ResolvedAlipayConfig = {
    appId,
    privateKey,
    signType,
    hash,
    mode: certMode ? 'cert' : 'key',
    alipayKeys: [],
    ...resolveUrls(config.gateway, config.endpoint),
    transport: config.transport ?? getDefaultTransport(),
    clock: config.clock ?? systemClock,
    nonce: config.nonce ?? defaultNonce,
    v3WindowSeconds: config.v3TimestampWindowSeconds ?? 300,
  };

  if (keyMode) {
    const key = loadPublicKey(config.alipayPublicKey as KeyInput, { label: 'alipayPublicKey' });
    if (samePublicKey(key, appPublic)) {
      fail(
        "alipayPublicKey looks like the app's own public key (应用公钥), the public half of privateKey",
        'configure the Alipay public key (支付宝公钥) shown next to it in the console; with the app key nothing Alipay signs would verify',
      );
    }
    out.alipayKeys = [{ key }];
  } else {
    if (config.appCert === undefined) fail('certificate mode: appCert is missing (appCertPublicKey_<appId>.crt)');
    if (config.alipayPublicCert === undefined) fail('certificate mode: alipayPublicCert is missing (alipayCertPublicKey_RSA2.crt)');
    if (config.alipayRootCert === undefined) fail('certificate mode: alipayRootCert is missing (alipayRootCert.crt)');
    const appCert = certificates(config.appCert, 'appCert')[0] as Certificate;
    if (!samePublicKey(appCert.publicKey, appPublic)) {
      fail(
        'appCert: the certificate does not belong to privateKey (its public key differs)',
        'download the app certificate issued for this private key',
      );
    }
    const list = Array.isArray(config.alipayPublicCert)
      ? (config.alipayPublicCert as readonly CertificateInput[])
      : [config.alipayPublicCert as CertificateInput];
    if (list.length === 0) fail('alipayPublicCert: expected at least one certificate, got an empty list');
    const keys: AlipayVerifyKey[] = [];
    list.forEach((input, i) => {
      const leaf = certificates(input, `alipayPublicCert[${i}]`)[0] as Certificate;
      if (samePublicKey(leaf.publicKey, appPublic)) {
        fail(`alipayPublicCert[${i}] looks like the app's own certificate (appCert): expected the Alipay public-key certificate`);
      }
      keys.push({ key: leaf.publicKey, sn: alipayCertSn(leaf) });
    });
    out.alipayKeys = keys;
    out.appCertSn = alipayCertSn(appCert);
    out.alipayRootCertSn = alipayRootCertSn(certificates(config.alipayRootCert, 'alipayRootCert'));
  }

  if (config.encryptKey !== undefined) {
    const text = typeof config.encryptKey === 'string' ? config.encryptKey.trim() : '';
    const bytes = /^[A-Za-z0-9+/]+={0,2}$/.test(text) ? Buffer.from(text, 'base64') : undefined;
    if (bytes === undefined || bytes.length !== 16) {
      fail(
        `encryptKey: expected the base64 AES key from the console (16 bytes), got ${bytes === undefined ? 'text that is not base64' : `${bytes.length} bytes`}`,
      );
    }
    out.encryptKey = bytes;
  }
  if (config.sellerId !== undefined) {
    if (!/^2088\d{12}$/.test(config.sellerId))
      fail(`sellerId: expected the merchant PID (16 digits starting 2088), got ${JSON.stringify(config.sellerId)}`);
    out.sellerId = config.sellerId;
  }
  if (config.timeoutMs !== undefined) {
    if (!Number.isInteger(config.timeoutMs) || config.timeoutMs <= 0)
      fail(`timeoutMs: expected a positive integer, got ${config.timeoutMs}`);
    out.timeoutMs = config.timeoutMs;
  }
  return out;
}
