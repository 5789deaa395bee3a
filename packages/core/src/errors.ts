/**
 * The error base of pay-sdk and the stable code table behind the result contract.
 *
 * Every failure inside the SDK is a {@link PayError} (or a subclass). Each one
 * carries a numeric `resultCode` from {@link ResultCode}, a stable string `code`,
 * the provider's own code / sub-code / message when the provider said something,
 * and the original `cause`.
 *
 * @module
 */

/**
 * The stable table of result codes. `0` is success; every other value names one
 * kind of failure. Codes are never renumbered: a test pins this table.
 */
export const ResultCode = {
  /** Success. */
  OK: 0,
  /** The SDK was configured wrongly (missing or malformed key, bad option). */
  CONFIG: 1000,
  /** An argument of a call is invalid (amount, order number, missing field). */
  INVALID_ARGUMENT: 1001,
  /** A signature did not verify, was missing or was of the wrong type. */
  SIGNATURE: 2000,
  /** A certificate is unknown, expired, not chained to a trusted root or of the wrong owner. */
  CERTIFICATE: 2001,
  /** A timestamp is outside the allowed window, or a message was replayed. */
  REPLAY: 2002,
  /** Decryption failed (wrong key, tampered ciphertext or authentication tag). */
  DECRYPT: 2003,
  /** A verified message does not match what was expected (amount, merchant, app, order). */
  MISMATCH: 2004,
  /** The provider answered with a business error (e.g. Alipay `ACQ.TRADE_HAS_SUCCESS`). */
  PROVIDER: 3000,
  /** The provider or the ledger does not know the payment, refund or object asked for. */
  NOT_FOUND: 3001,
  /** The network failed (connection refused or reset, DNS, TLS). */
  NETWORK: 4000,
  /** The provider did not answer in time. */
  TIMEOUT: 4001,
  /** The provider answered with an HTTP 5xx. */
  UPSTREAM: 4002,
  /** The provider's answer could not be understood (malformed body, unexpected shape). */
  BAD_RESPONSE: 4003,
  /** The provider asked the caller to slow down (HTTP 429, frequency limits). */
  RATE_LIMITED: 4004,
  /** The payment record is not in a state that allows the operation. */
  STATE_CONFLICT: 5000,
  /** An unexpected error inside the SDK or a user hook. */
  INTERNAL: 9000,
} as const;

/** One of the names in {@link ResultCode}. */
export type ResultCodeName = keyof typeof ResultCode;
/** One of the numbers in {@link ResultCode}. */
export type ResultCodeValue = (typeof ResultCode)[ResultCodeName];

/** The `result_msg` of each failure code: a short, stable, upper-case word. */
export const ResultMessage: Readonly<Record<ResultCodeValue, string>> = {
  0: 'OK',
  1000: 'CONFIG_ERROR',
  1001: 'INVALID_ARGUMENT',
  2000: 'SIGNATURE_INVALID',
  2001: 'CERTIFICATE_INVALID',
  2002: 'REPLAY_OR_STALE',
  2003: 'DECRYPT_FAILED',
  2004: 'MISMATCH',
  3000: 'PROVIDER_ERROR',
  3001: 'NOT_FOUND',
  4000: 'NETWORK_ERROR',
  4001: 'TIMEOUT',
  4002: 'UPSTREAM_ERROR',
  4003: 'BAD_RESPONSE',
  4004: 'RATE_LIMITED',
  5000: 'STATE_CONFLICT',
  9000: 'INTERNAL_ERROR',
};

/** What a provider said about a failure, kept verbatim. */
export interface ProviderDetail {
  /** The provider package that raised or relayed the error, e.g. `alipay`. */
  provider?: string;
  /** The provider's own code, e.g. Alipay `40004`, WeChat `ORDERPAID`, UnionPay `respCode`. */
  providerCode?: string;
  /** The provider's sub-code, e.g. Alipay `ACQ.TRADE_HAS_SUCCESS`. */
  providerSubCode?: string;
  /** The provider's message as it was sent. */
  providerMessage?: string;
  /** HTTP status of the provider's answer when there was one. */
  httpStatus?: number;
}

/** Options accepted by every {@link PayError} constructor. */
export interface PayErrorOptions extends ProviderDetail {
  /** The error that caused this one. */
  cause?: unknown;
  /** True when the same call may succeed if tried again later. */
  retryable?: boolean;
  /** A hint telling the developer what to do about it. */
  hint?: string;
  /** For verification failures: a finer, stable reason such as `INVALID_CHAIN_LENGTH`. */
  reason?: string;
}

/**
 * The base of every error raised by pay-sdk.
 *
 * @example
 * ```ts
 * try { client.verifyNotify(body); }
 * catch (e) { if (e instanceof PaySignatureError) reply(400); else throw e; }
 * ```
 */
export class PayError extends Error {
  /** The numeric code of the result contract. */
  readonly resultCode: ResultCodeValue;
  /** The stable string form of the code, e.g. `ERR_PAY_SIGNATURE`. */
  readonly code: string;
  /** The provider package involved, if any. */
  readonly provider: string | undefined;
  /** The provider's own code, kept verbatim. */
  readonly providerCode: string | undefined;
  /** The provider's sub-code, kept verbatim. */
  readonly providerSubCode: string | undefined;
  /** The provider's message, kept verbatim. */
  readonly providerMessage: string | undefined;
  /** HTTP status of the provider's answer, if any. */
  readonly httpStatus: number | undefined;
  /** True when trying again later may succeed. */
  readonly retryable: boolean;
  /** What the developer can do about it. */
  readonly hint: string | undefined;
  /** A finer, stable reason (e.g. `INVALID_CHAIN_LENGTH`). */
  readonly reason: string | undefined;

  /**
   * @param resultCode - a value of {@link ResultCode}
   * @param message - what was expected and what was found; never a secret
   * @param options - provider detail, cause, hint
   */
  constructor(resultCode: ResultCodeValue, message: string, options: PayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.resultCode = resultCode;
    this.code = `ERR_PAY_${codeName(resultCode)}`;
    this.provider = options.provider;
    this.providerCode = options.providerCode;
    this.providerSubCode = options.providerSubCode;
    this.providerMessage = options.providerMessage;
    this.httpStatus = options.httpStatus;
    this.retryable = options.retryable ?? false;
    this.hint = options.hint;
    this.reason = options.reason;
  }

  /** The `err_detail` of the result contract: message, provider detail and hint, redacted. */
  get detail(): string {
    const parts = [this.message];
    const provider: string[] = [];
    if (this.providerCode !== undefined) provider.push(`code=${this.providerCode}`);
    if (this.providerSubCode !== undefined) provider.push(`sub_code=${this.providerSubCode}`);
    if (this.providerMessage !== undefined) provider.push(`msg=${this.providerMessage}`);
    if (this.httpStatus !== undefined) provider.push(`http=${this.httpStatus}`);
    if (provider.length > 0) parts.push(`[${provider.join(' ')}]`);
    if (this.hint !== undefined) parts.push(`hint: ${this.hint}`);
    return redactSecrets(parts.join(' '));
  }
}

function codeName(code: ResultCodeValue): string {
  for (const [name, value] of Object.entries(ResultCode)) if (value === code) return name;
  return 'INTERNAL';
}

/** The SDK was configured wrongly; raised at construction. */
export class PayConfigError extends PayError {
  /** @param message - what is wrong with the configuration @param options - cause and hint */
  constructor(message: string, options?: PayErrorOptions) {
    super(ResultCode.CONFIG, message, options);
  }
}
/** An argument of a call is invalid. */
export class PayArgumentError extends PayError {
  /** @param message - which argument and why @param options - cause and hint */
  constructor(message: string, options?: PayErrorOptions) {
    super(ResultCode.INVALID_ARGUMENT, message, options);
  }
}
/** A signature did not verify, is missing, or is of the wrong type. */
export class PaySignatureError extends PayError {
  /** @param message - what was verified and why it failed @param options - cause and reason */
  constructor(message: string, options?: PayErrorOptions) {
    super(ResultCode.SIGNATURE, message, options);
  }
}
/** A certificate is unknown, expired, untrusted or of the wrong owner. */
export class PayCertificateError extends PayError {
  /** @param message - which certificate and why @param options - cause and reason */
  constructor(message: string, options?: PayErrorOptions) {
    super(ResultCode.CERTIFICATE, message, options);
  }
}
/** A timestamp is outside the window, or a message was seen before. */
export class PayReplayError extends PayError {
  /** @param message - the timestamp found and the window @param options - cause */
  constructor(message: string, options?: PayErrorOptions) {
    super(ResultCode.REPLAY, message, options);
  }
}
/** Decryption failed. */
export class PayDecryptError extends PayError {
  /** @param message - what could not be decrypted @param options - cause */
  constructor(message: string, options?: PayErrorOptions) {
    super(ResultCode.DECRYPT, message, options);
  }
}
/** A verified message does not match the payment it claims to settle. */
export class PayMismatchError extends PayError {
  /** @param message - the field, the expected and the found value @param options - cause */
  constructor(message: string, options?: PayErrorOptions) {
    super(ResultCode.MISMATCH, message, options);
  }
}
/** The provider answered with a business error. */
export class PayProviderError extends PayError {
  /** @param message - what the call was and what the provider said @param options - provider codes, hint */
  constructor(message: string, options?: PayErrorOptions) {
    super(ResultCode.PROVIDER, message, options);
  }
}
/** The payment, refund or object does not exist. */
export class PayNotFoundError extends PayError {
  /** @param message - what was looked up @param options - provider codes */
  constructor(message: string, options?: PayErrorOptions) {
    super(ResultCode.NOT_FOUND, message, options);
  }
}
/** The network failed before an answer arrived. */
export class PayNetworkError extends PayError {
  /** @param message - the host and what failed @param options - cause */
  constructor(message: string, options?: PayErrorOptions) {
    super(ResultCode.NETWORK, message, { retryable: true, ...options });
  }
}
/** The provider did not answer in time. */
export class PayTimeoutError extends PayError {
  /** @param message - the call and the timeout @param options - cause */
  constructor(message: string, options?: PayErrorOptions) {
    super(ResultCode.TIMEOUT, message, { retryable: true, ...options });
  }
}
/** The 5xx answer kept by a {@link PayUpstreamError} (structurally an `HttpResponse`). */
export interface UpstreamResponse {
  /** HTTP status code. */
  status: number;
  /** Response headers with lower-case names. */
  headers: Record<string, string>;
  /** The raw body. */
  body: Uint8Array;
}

/** The provider answered with an HTTP 5xx; the response is kept. */
export class PayUpstreamError extends PayError {
  /** The response the provider sent, when there was one. */
  readonly response: UpstreamResponse | undefined;
  /** @param message - the call and the status @param options - cause, response */
  constructor(
    message: string,
    options: PayErrorOptions & {
      response?: UpstreamResponse;
    } = {},
  ) {
    super(ResultCode.UPSTREAM, message, { retryable: true, ...options });
    this.response = options.response;
  }
}
/** The provider's answer could not be understood. */
export class PayResponseError extends PayError {
  /** @param message - what was expected and what arrived @param options - cause */
  constructor(message: string, options?: PayErrorOptions) {
    super(ResultCode.BAD_RESPONSE, message, options);
  }
}
/** The provider asked the caller to slow down. */
export class PayRateLimitError extends PayError {
  /** Milliseconds the provider asked to wait, when it said so. */
  readonly retryAfterMs: number | undefined;
  /** @param message - the call @param options - provider codes and the delay asked for */
  constructor(message: string, options: PayErrorOptions & { retryAfterMs?: number } = {}) {
    super(ResultCode.RATE_LIMITED, message, { retryable: true, ...options });
    this.retryAfterMs = options.retryAfterMs;
  }
}
/** The payment record is not in a state that allows the operation. */
export class PayStateError extends PayError {
  /** @param message - the state found and the one needed @param options - cause */
  constructor(message: string, options?: PayErrorOptions) {
    super(ResultCode.STATE_CONFLICT, message, options);
  }
}

/** A PEM block; one cut short (no END line) is redacted up to the end of its base64 and header lines. */
const PEM_BLOCK = /-----BEGIN [A-Z0-9 ]+-----(?:[\s\S]*?-----END [A-Z0-9 ]+-----|[A-Za-z0-9+/=\s\\:,-]*)/g;
/** Base64 runs, possibly wrapped across lines (real or escaped `\n` line breaks). */
const BASE64_RUN = /[A-Za-z0-9+/=_-]{16,}(?:(?:\s|\\[rn])+[A-Za-z0-9+/=_-]{16,})*/g;
const LONG_RUN = 120;

/**
 * Removes what could be key material from a text meant for logs or `err_detail`:
 * PEM blocks and base64 runs of 120 characters or more, also when wrapped across
 * lines (keys and certificates are hundreds of characters; signatures, ids and
 * serials are shorter and stay readable).
 *
 * @example
 * ```ts
 * redactSecrets(`bad key ${pem}`); // 'bad key [redacted PEM]'
 * ```
 * @param text - any message
 * @returns the message with such runs replaced by `[redacted PEM]` / `[redacted]`
 */
export function redactSecrets(text: string): string {
  return text
    .replace(PEM_BLOCK, '[redacted PEM]')
    .replace(BASE64_RUN, (run) => (run.replace(/\s|\\[rn]/g, '').length >= LONG_RUN ? '[redacted]' : run));
}

/** True when `value` is a {@link PayError} (also across duplicated copies of the package). */
export function isPayError(value: unknown): value is PayError {
  return (
    value instanceof PayError ||
    (typeof value === 'object' &&
      value !== null &&
      typeof (value as { resultCode?: unknown }).resultCode === 'number' &&
      typeof (value as { code?: unknown }).code === 'string' &&
      String((value as { code: string }).code).startsWith('ERR_PAY_'))
  );
}
