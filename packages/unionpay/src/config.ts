/**
 * Configuration of {@link UnionPayClient}: validated once, at construction,
 * with precise errors. The `.pfx`, the root and middle certificates, the
 * encryption certificate and the secure key are read and parsed here and never
 * again.
 *
 * @module
 */

import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  assertSecureUrl,
  type Certificate,
  type Clock,
  getDefaultTransport,
  loadPkcs12,
  PayConfigError,
  parseCertificates,
  sha256Hex,
  sm3Hex,
  systemClock,
  type Transport,
} from '@pay/core';
import { PREFIX } from './fields.js';

/** ACP interface versions: `5.1.0` (SHA-256, `signPubKeyCert`) and the older `5.0.0` (SHA-1, local verify certificates). */
export type AcpVersion = '5.1.0' | '5.0.0';

/**
 * ACP signature methods: `01` RSA with the merchant certificate (the default);
 * `11` SHA-256 and `12` SM3 over the message and a secure key (多密钥 merchants).
 */
export type AcpSignMethod = '01' | '11' | '12';

/** A certificate as PEM text, base64 DER, DER or PEM bytes, or the path of a `.cer` file. */
export type CertificateInput = string | Uint8Array;

/** The gateway: UnionPay's test environment, production, or a base URL (the local emulator). */
export type UnionPayEnvironment =
  | 'test'
  | 'production'
  | {
      /** Base URL; calls go to `<baseUrl>/gateway/api/<name>.do`. https, or http to 127.0.0.1. */
      baseUrl: string;
      /** URL of file downloads (txnType 76); `<baseUrl>/` by default. */
      fileDownloadUrl?: string;
    };

/** The signing certificate: the merchant `.pfx` and its password. */
export interface SignCertificateConfig {
  /** The `.pfx` bytes, or the path of the file (e.g. `acp_prod_sign.pfx`). */
  pfx: Uint8Array | string;
  /** Its password (test files: `000000`). */
  password: string;
}

/**
 * Everything {@link UnionPayClient} needs.
 *
 * @example
 * ```ts
 * const client = new UnionPayClient({
 *   merId: '777290058110048',
 *   environment: 'test',
 *   signCert: { pfx: '/etc/unionpay/acp_test_sign.pfx', password: '000000' },
 *   rootCert: '/etc/unionpay/acp_test_root.cer',
 *   middleCert: '/etc/unionpay/acp_test_middle.cer',
 * });
 * ```
 */
export interface UnionPayConfig {
  /** The merchant number (商户号, 15 characters; test merchants start with 777). */
  merId: string;
  /** `test` (gateway.test.95516.com), `production` (gateway.95516.com) or `{ baseUrl }`. */
  environment: UnionPayEnvironment;
  /** The signing `.pfx` and password; required for signMethod `01` and for decrypting `accNo`. */
  signCert?: SignCertificateConfig | undefined;
  /**
   * UnionPay's root certificate (`acp_test_root.cer` / `acp_prod_root.cer`); required for 5.1.0 with
   * signMethod `01`. Test and production roots differ: use the set that belongs to `environment`.
   */
  rootCert?: CertificateInput | undefined;
  /** UnionPay's middle certificate (`acp_test_middle.cer` / `acp_prod_middle.cer`), issued by `rootCert`. */
  middleCert?: CertificateInput | undefined;
  /** 5.0.0 only: UnionPay's verify certificates (`acp_*_verify_sign.cer`), looked up by the message's `certId`. */
  verifyCerts?: readonly CertificateInput[] | undefined;
  /** The sensitive-information encryption certificate (`acp_*_enc.cer`), for `accNo` / `customerInfo`. */
  encryptCert?: CertificateInput | undefined;
  /** The secure key of signMethod `11` / `12` (from the merchant portal). */
  secureKey?: string | undefined;
  /** `5.1.0` (default) or `5.0.0`. Taken from here, never from a message. */
  version?: AcpVersion | undefined;
  /** `01` (default), `11` or `12`. Taken from here, never from a message. */
  signMethod?: AcpSignMethod | undefined;
  /**
   * Accept only `signPubKeyCert`s whose CN names 中国银联股份有限公司 (default true). `false` also
   * accepts the test CN `00040000:SIGN`, and is allowed only with `environment: 'test'`.
   */
  strictCn?: boolean | undefined;
  /** `encoding` sent with each request; `utf-8` (default) or `UTF-8`. */
  encoding?: 'utf-8' | 'UTF-8' | undefined;
  /** How many verified `signPubKeyCert`s to keep (default 8). */
  certCacheSize?: number | undefined;
  /** The HTTP transport; core's axios transport by default. */
  transport?: Transport | undefined;
  /** Timeout of each gateway call, ms (default: the transport's). */
  timeoutMs?: number | undefined;
  /** The clock: default `txnTime`s and certificate validity checks. */
  clock?: Clock | undefined;
}

/** The UnionPay CN part a production `signPubKeyCert` must carry. */
export const UNIONPAY_CN = '中国银联股份有限公司';
/** The CN part some test-environment certificates carry instead (accepted only when `strictCn` is false). */
export const UNIONPAY_TEST_CN = '00040000:SIGN';

/** The gateway endpoints a client calls. */
export interface UnionPayEndpoints {
  /** Browser-submitted transactions (web / WAP consume, pre-authorisation). */
  frontTransReq: string;
  /** Server-to-server transactions (undo, refund, pre-authorisation completion…). */
  backTransReq: string;
  /** App transactions: returns the `tn` for the UnionPay mobile SDK. */
  appTransReq: string;
  /** Single transaction query (txnType 00). */
  queryTrans: string;
  /** File download (txnType 76). */
  fileTransfer: string;
}

const HOSTS = {
  test: { gateway: 'https://gateway.test.95516.com', file: 'https://filedownload.test.95516.com/' },
  production: { gateway: 'https://gateway.95516.com', file: 'https://filedownload.95516.com/' },
} as const;

/**
 * The endpoints of an environment.
 *
 * @throws PayConfigError for a base URL that is not https (or http to 127.0.0.1)
 */
export function endpointsFor(environment: UnionPayEnvironment): UnionPayEndpoints {
  let gateway: string;
  let file: string;
  if (environment === 'test' || environment === 'production') {
    gateway = HOSTS[environment].gateway;
    file = HOSTS[environment].file;
  } else if (typeof environment === 'object' && environment !== null && typeof environment.baseUrl === 'string') {
    gateway = environment.baseUrl.replace(/\/+$/, '');
    file = environment.fileDownloadUrl ?? `${gateway}/`;
    for (const [what, url] of [
      ['environment.baseUrl', gateway],
      ['environment.fileDownloadUrl', file],
    ] as const) {
      try {
        assertSecureUrl(url);
      } catch (e) {
        throw new PayConfigError(`${PREFIX}: ${what}: expected https (or http to 127.0.0.1), got ${JSON.stringify(url)}`, { cause: e });
      }
    }
  } else {
    throw new PayConfigError(`${PREFIX}: environment: expected 'test', 'production' or { baseUrl }, got ${JSON.stringify(environment)}`);
  }
  const api = `${gateway}/gateway/api`;
  return {
    frontTransReq: `${api}/frontTransReq.do`,
    backTransReq: `${api}/backTransReq.do`,
    appTransReq: `${api}/appTransReq.do`,
    queryTrans: `${api}/queryTrans.do`,
    fileTransfer: file,
  };
}

/** The configuration after validation: keys and certificates parsed. @internal */
export interface ResolvedConfig {
  merId: string;
  version: AcpVersion;
  signMethod: AcpSignMethod;
  encoding: string;
  environment: UnionPayEnvironment;
  endpoints: UnionPayEndpoints;
  privateKey: KeyObject | undefined;
  signCertificate: Certificate | undefined;
  certId: string | undefined;
  root: Certificate | undefined;
  middle: Certificate | undefined;
  verifyCerts: ReadonlyMap<string, Certificate>;
  encryptCertificate: Certificate | undefined;
  /** Digest of the secure key (sha256 hex for `11`, SM3 hex for `12`). */
  secureKeyDigest: string | undefined;
  strictCn: boolean;
  certCacheSize: number;
  transport: Transport;
  timeoutMs: number | undefined;
  clock: Clock;
}

function readInput(input: unknown, what: string): string | Uint8Array {
  if (input instanceof Uint8Array) return input;
  if (typeof input !== 'string' || input.trim() === '') {
    throw new PayConfigError(
      `${PREFIX}: ${what}: expected PEM text, DER bytes or a file path, got ${input === undefined ? 'nothing' : typeof input}`,
    );
  }
  const text = input.trim();
  if (text.includes('-----BEGIN')) return text;
  if (text.length > 200 && /^[A-Za-z0-9+/=\s]+$/.test(text)) return text; // bare base64 DER
  try {
    return readFileSync(text);
  } catch (e) {
    throw new PayConfigError(`${PREFIX}: ${what}: could not read the file ${JSON.stringify(text)}: ${(e as Error).message}`, { cause: e });
  }
}

function loadCertificate(input: unknown, what: string): Certificate {
  const bytes = readInput(input, what);
  let list: Certificate[];
  try {
    list = parseCertificates(bytes);
  } catch (e) {
    throw new PayConfigError(`${PREFIX}: ${what}: expected an X.509 certificate (PEM, base64 DER or DER): ${(e as Error).message}`, {
      cause: e,
    });
  }
  if (list.length !== 1) throw new PayConfigError(`${PREFIX}: ${what}: expected one certificate, found ${list.length}`);
  return list[0] as Certificate;
}

/**
 * Validates a configuration and parses its keys and certificates.
 *
 * @throws PayConfigError naming the setting that is missing or wrong
 * @internal
 */
export function resolveConfig(config: UnionPayConfig): ResolvedConfig {
  if (typeof config !== 'object' || config === null) throw new PayConfigError(`${PREFIX}: expected a configuration object`);
  const { merId } = config;
  if (typeof merId !== 'string' || !/^[A-Za-z0-9]{15}$/.test(merId)) {
    throw new PayConfigError(`${PREFIX}: merId: expected the 15-character merchant number (商户号), got ${JSON.stringify(merId)}`);
  }
  const version = config.version ?? '5.1.0';
  if (version !== '5.1.0' && version !== '5.0.0') {
    throw new PayConfigError(`${PREFIX}: version: expected '5.1.0' or '5.0.0', got ${JSON.stringify(version)}`);
  }
  const signMethod = config.signMethod ?? '01';
  if (signMethod !== '01' && signMethod !== '11' && signMethod !== '12') {
    throw new PayConfigError(`${PREFIX}: signMethod: expected '01', '11' or '12', got ${JSON.stringify(signMethod)}`);
  }
  if (signMethod !== '01' && version !== '5.1.0') {
    throw new PayConfigError(`${PREFIX}: signMethod ${signMethod} exists only in version 5.1.0`);
  }
  const encoding = config.encoding ?? 'utf-8';
  if (encoding !== 'utf-8' && encoding !== 'UTF-8') {
    throw new PayConfigError(`${PREFIX}: encoding: expected 'utf-8' or 'UTF-8' (the SDK sends UTF-8), got ${JSON.stringify(encoding)}`);
  }
  const endpoints = endpointsFor(config.environment);

  let privateKey: KeyObject | undefined;
  let signCertificate: Certificate | undefined;
  if (config.signCert !== undefined) {
    const { pfx, password } = config.signCert;
    if (typeof password !== 'string')
      throw new PayConfigError(`${PREFIX}: signCert.password: expected the .pfx password (test files: 000000)`);
    const bytes = readInput(pfx, 'signCert.pfx');
    let p12: ReturnType<typeof loadPkcs12>;
    try {
      p12 = loadPkcs12(bytes, password, { label: 'signCert.pfx' });
    } catch (e) {
      const err = e as PayConfigError;
      const message = String(err.message ?? e).replace(/^@pay\/core: /, '');
      throw new PayConfigError(`${PREFIX}: ${message}`, err.hint === undefined ? { cause: e } : { cause: e, hint: err.hint });
    }
    privateKey = p12.privateKey;
    signCertificate = p12.certificate;
    if (privateKey.asymmetricKeyType !== 'rsa') {
      throw new PayConfigError(`${PREFIX}: signCert.pfx: expected an RSA key, found ${privateKey.asymmetricKeyType}`);
    }
  } else if (signMethod === '01') {
    throw new PayConfigError(`${PREFIX}: signCert: signMethod 01 signs with the merchant .pfx; give signCert: { pfx, password }`);
  }

  let root: Certificate | undefined;
  let middle: Certificate | undefined;
  if (config.rootCert !== undefined || config.middleCert !== undefined) {
    if (config.rootCert === undefined || config.middleCert === undefined) {
      throw new PayConfigError(`${PREFIX}: rootCert and middleCert: give both UnionPay certificates (acp_*_root.cer and acp_*_middle.cer)`);
    }
    root = loadCertificate(config.rootCert, 'rootCert');
    middle = loadCertificate(config.middleCert, 'middleCert');
    if (!root.isCA || !root.isSelfSigned) {
      throw new PayConfigError(
        `${PREFIX}: rootCert: expected UnionPay's self-signed root CA, got ${root.subjectName()}${middle.isSelfSigned ? ' (rootCert and middleCert look swapped)' : ''}`,
      );
    }
    if (!middle.isCA) throw new PayConfigError(`${PREFIX}: middleCert: expected a CA certificate, got ${middle.subjectName()}`);
    if (!middle.isIssuedBy(root)) {
      throw new PayConfigError(`${PREFIX}: middleCert (${middle.subjectName()}) is not issued by rootCert (${root.subjectName()})`, {
        hint: 'test and production use different root/middle certificates: take both from the same set',
      });
    }
  } else if (version === '5.1.0' && signMethod === '01') {
    throw new PayConfigError(
      `${PREFIX}: rootCert and middleCert: 5.1.0 verifies signPubKeyCert through UnionPay's root and middle certificates; give both`,
    );
  }

  const verifyCerts = new Map<string, Certificate>();
  if (config.verifyCerts !== undefined) {
    if (!Array.isArray(config.verifyCerts)) throw new PayConfigError(`${PREFIX}: verifyCerts: expected an array of certificates`);
    config.verifyCerts.forEach((c, i) => {
      const cert = loadCertificate(c, `verifyCerts[${i}]`);
      verifyCerts.set(cert.serialDecimal, cert);
    });
  }
  if (version === '5.0.0' && signMethod === '01' && verifyCerts.size === 0) {
    throw new PayConfigError(
      `${PREFIX}: verifyCerts: 5.0.0 verifies with UnionPay's verify certificate looked up by certId; give verifyCerts`,
    );
  }

  const encryptCertificate = config.encryptCert === undefined ? undefined : loadCertificate(config.encryptCert, 'encryptCert');
  if (encryptCertificate && encryptCertificate.publicKey.asymmetricKeyType !== 'rsa') {
    throw new PayConfigError(`${PREFIX}: encryptCert: expected an RSA certificate`);
  }

  let secureKeyDigest: string | undefined;
  if (config.secureKey !== undefined) {
    if (typeof config.secureKey !== 'string' || config.secureKey.length === 0) {
      throw new PayConfigError(`${PREFIX}: secureKey: expected the non-empty secure key of signMethod 11/12`);
    }
    secureKeyDigest = signMethod === '12' ? sm3Hex(config.secureKey) : sha256Hex(config.secureKey);
  }
  if ((signMethod === '11' || signMethod === '12') && secureKeyDigest === undefined) {
    throw new PayConfigError(`${PREFIX}: secureKey: signMethod ${signMethod} signs with the secure key; give secureKey`);
  }

  const strictCn = config.strictCn ?? true;
  if (typeof strictCn !== 'boolean') throw new PayConfigError(`${PREFIX}: strictCn: expected a boolean`);
  if (!strictCn && config.environment !== 'test') {
    throw new PayConfigError(
      `${PREFIX}: strictCn: false (accepting the test CN ${UNIONPAY_TEST_CN}) is allowed only with environment 'test'`,
    );
  }
  const certCacheSize = config.certCacheSize ?? 8;
  if (!Number.isInteger(certCacheSize) || certCacheSize < 1 || certCacheSize > 1000) {
    throw new PayConfigError(`${PREFIX}: certCacheSize: expected an integer from 1 to 1000, got ${certCacheSize}`);
  }
  if (config.timeoutMs !== undefined && (!Number.isFinite(config.timeoutMs) || config.timeoutMs <= 0)) {
    throw new PayConfigError(`${PREFIX}: timeoutMs: expected a positive number of milliseconds`);
  }
  if (config.clock !== undefined && typeof config.clock !== 'function') throw new PayConfigError(`${PREFIX}: clock: expected a function`);

  return {
    merId,
    version,
    signMethod,
    encoding,
    environment: config.environment,
    endpoints,
    privateKey,
    signCertificate,
    certId: signCertificate?.serialDecimal,
    root,
    middle,
    verifyCerts,
    encryptCertificate,
    secureKeyDigest,
    strictCn,
    certCacheSize,
    transport: config.transport ?? getDefaultTransport(),
    timeoutMs: config.timeoutMs,
    clock: config.clock ?? systemClock,
  };
}
