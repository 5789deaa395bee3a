// The App Store Server API client over real sockets: a server on 127.0.0.1 answers with Apple's mock
// bodies (shared/vectors/iap/models, as apple/app-store-server-library-node's api_client tests use them)
// and checks each request the way the official tests do (method, path, query, body, bearer token).
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import {
  createHttpTransport,
  PayConfigError,
  PayNotFoundError,
  PayProviderError,
  PayRateLimitError,
  PayResponseError,
  PayUpstreamError,
} from '@pay/core';
import { generateAppleTestKeyPair, startLoopbackServer } from '@pay/sandbox';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeVectors, readVectorText } from '../../../test-utils/vectors.js';
import { AppStoreServerApiClient, type AppStoreServerApiOptions, parseRetryAfter } from '../src/index.js';
import { NOW } from './helpers.js';

interface Seen {
  env: 'production' | 'sandbox';
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
  body: string;
}

describeVectors('App Store Server API client against Apple’s mock responses on 127.0.0.1', () => {
  const model = (name: string) => readVectorText('iap', 'models', name);
  let seen: Seen[] = [];
  let server: Awaited<ReturnType<typeof startLoopbackServer>>;
  /** Answers by `${env} ${method} ${path}`: [status, model file or '', extra headers]. */
  let routes: Record<string, Array<[number, string, Record<string, string>?]>> = {};
  let clock = NOW;

  const publicKey = () => createPublicKey(readVectorText('iap', 'certs', 'testSigningKey.p8'));

  /** Checks the bearer token like App Store Connect: ES256 with the key id, issuer, audience, bundle, short expiry. */
  function tokenOk(auth: string | undefined): boolean {
    if (!auth?.startsWith('Bearer ')) return false;
    const [h, p, s] = auth.slice(7).split('.');
    if (!h || !p || !s) return false;
    const header = JSON.parse(Buffer.from(h, 'base64url').toString());
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const now = Math.floor(clock / 1000);
    return (
      header.alg === 'ES256' &&
      header.kid === 'keyId' &&
      header.typ === 'JWT' &&
      claims.iss === 'issuerId' &&
      claims.aud === 'appstoreconnect-v1' &&
      claims.bid === 'bundleId' &&
      claims.iat <= now &&
      claims.exp > now &&
      claims.exp - claims.iat <= 3600 &&
      verify('sha256', Buffer.from(`${h}.${p}`), { key: publicKey(), dsaEncoding: 'ieee-p1363' }, Buffer.from(s, 'base64url'))
    );
  }

  beforeAll(async () => {
    server = await startLoopbackServer((req) => {
      const m = /^\/(production|sandbox)(\/.*)$/.exec(req.path);
      if (!m) return { status: 404 };
      const env = m[1] as Seen['env'];
      seen.push({ env, method: req.method, path: m[2] as string, query: req.query, headers: req.headers, body: req.body.toString('utf8') });
      if (!tokenOk(req.headers.authorization)) return { status: 401, body: 'Unauthenticated' };
      const queue = routes[`${env} ${req.method} ${m[2]}`];
      const answer = queue && queue.length > 1 ? queue.shift() : queue?.[0];
      if (!answer) return { status: 404, headers: { 'content-type': 'application/json' }, body: model('transactionIdNotFoundError.json') };
      const [status, file, headers] = answer;
      return { status, headers: { 'content-type': 'application/json', ...headers }, body: file === '' ? '' : model(file) };
    });
  });
  afterAll(() => server.close());

  function client(options: Partial<AppStoreServerApiOptions> & { sleeps?: number[] } = {}) {
    seen = [];
    const { sleeps, ...rest } = options;
    return new AppStoreServerApiClient({
      privateKey: readVectorText('iap', 'certs', 'testSigningKey.p8'),
      keyId: 'keyId',
      issuerId: 'issuerId',
      bundleId: 'bundleId',
      environment: 'Production',
      productionUrl: `${server.url}/production`,
      sandboxUrl: `${server.url}/sandbox`,
      transport: createHttpTransport({ retries: 0 }),
      clock: () => clock,
      sleep: async (ms) => {
        sleeps?.push(ms);
      },
      ...rest,
    });
  }

  const only = () => {
    expect(seen).toHaveLength(1);
    const r = seen[0] as Seen;
    expect(r.headers.accept).toBe('application/json');
    if (r.body === '') expect(r.headers['content-type']).toBeUndefined();
    else expect(r.headers['content-type']).toBe('application/json');
    return r;
  };

  it('Get Transaction Info: GET /inApps/v1/transactions/1234', async () => {
    routes = { 'production GET /inApps/v1/transactions/1234': [[200, 'transactionInfoResponse.json']] };
    const res = await client().getTransactionInfo('1234');
    expect(res).toEqual({ signedTransactionInfo: 'signed_transaction_info_value' });
    expect(only()).toMatchObject({ method: 'GET', path: '/inApps/v1/transactions/1234', query: '', body: '' });
  });

  it('Get Transaction History v1 and v2 with every filter as query parameters', async () => {
    for (const version of ['v1', 'v2'] as const) {
      routes = { [`production GET /inApps/${version}/history/1234`]: [[200, 'transactionHistoryResponse.json']] };
      const res = await client().getTransactionHistory(
        '1234',
        {
          sort: 'ASCENDING',
          productTypes: ['CONSUMABLE', 'AUTO_RENEWABLE'],
          endDate: 123456,
          startDate: 123455,
          revoked: false,
          inAppOwnershipType: 'FAMILY_SHARED',
          productIds: ['com.example.1', 'com.example.2'],
          subscriptionGroupIdentifiers: ['sub_group_id', 'sub_group_id_2'],
        },
        'revision_input',
        version,
      );
      expect(res).toEqual(JSON.parse(model('transactionHistoryResponse.json')));
      const q = new URLSearchParams(only().query);
      expect(q.get('revision')).toBe('revision_input');
      expect(q.get('startDate')).toBe('123455');
      expect(q.get('endDate')).toBe('123456');
      expect(q.getAll('productId')).toEqual(['com.example.1', 'com.example.2']);
      expect(q.getAll('productType')).toEqual(['CONSUMABLE', 'AUTO_RENEWABLE']);
      expect(q.get('sort')).toBe('ASCENDING');
      expect(q.getAll('subscriptionGroupIdentifier')).toEqual(['sub_group_id', 'sub_group_id_2']);
      expect(q.get('inAppOwnershipType')).toBe('FAMILY_SHARED');
      expect(q.get('revoked')).toBe('false');
    }
  });

  it('history answers: an unknown environment passes through, a malformed appAppleId or hasMore is refused', async () => {
    routes = { 'production GET /inApps/v2/history/1234': [[200, 'transactionHistoryResponseWithMalformedEnvironment.json']] };
    expect((await client().getTransactionHistory('1234')).environment).toBe('LocalTestingxxx');
    routes = { 'production GET /inApps/v2/history/1234': [[200, 'transactionHistoryResponseWithMalformedAppAppleId.json']] };
    const e = await client()
      .getTransactionHistory('1234')
      .catch((x) => x);
    expect(e).toBeInstanceOf(PayResponseError);
    expect(e.message).toMatch(/field (hasMore|appAppleId)/);
  });

  it('Get All Subscription Statuses with status filters: ?status=2&status=1', async () => {
    routes = { 'production GET /inApps/v1/subscriptions/4321': [[200, 'getAllSubscriptionStatusesResponse.json']] };
    const res = await client().getAllSubscriptionStatuses('4321', [2, 1]);
    expect(only().query).toBe('status=2&status=1');
    expect(res.environment).toBe('LocalTesting');
    expect(res.appAppleId).toBe(5454545);
    expect(res.data?.[0]?.lastTransactions?.[1]).toEqual({
      status: 5,
      originalTransactionId: '5314314134',
      signedTransactionInfo: 'signed_transaction_two',
      signedRenewalInfo: 'signed_renewal_two',
    });
  });

  it('Get Refund History: GET /inApps/v2/refund/lookup/555555?revision=…', async () => {
    routes = { 'production GET /inApps/v2/refund/lookup/555555': [[200, 'getRefundHistoryResponse.json']] };
    const res = await client().getRefundHistory('555555', 'revision_input');
    expect(only().query).toBe('revision=revision_input');
    expect(res).toEqual({
      signedTransactions: ['signed_transaction_one', 'signed_transaction_two'],
      revision: 'revision_output',
      hasMore: true,
    });
  });

  it('Look Up Order ID: GET /inApps/v1/lookup/W002182', async () => {
    routes = { 'production GET /inApps/v1/lookup/W002182': [[200, 'lookupOrderIdResponse.json']] };
    const res = await client().lookUpOrderId('W002182');
    expect(only().path).toBe('/inApps/v1/lookup/W002182');
    expect(res.status).toBe(1);
  });

  it('Send Consumption Information: PUT /inApps/v2/transactions/consumption/49571273 with the JSON body (v1 too)', async () => {
    routes = {
      'production PUT /inApps/v2/transactions/consumption/49571273': [[202, '']],
      'production PUT /inApps/v1/transactions/consumption/49571273': [[202, '']],
    };
    await client().sendConsumptionInformation('49571273', {
      customerConsented: true,
      consumptionPercentage: 50000,
      deliveryStatus: 'DELIVERED',
      refundPreference: 'GRANT_FULL',
      sampleContentProvided: false,
    });
    const r = only();
    expect(r.method).toBe('PUT');
    expect(JSON.parse(r.body)).toEqual({
      customerConsented: true,
      consumptionPercentage: 50000,
      deliveryStatus: 'DELIVERED',
      refundPreference: 'GRANT_FULL',
      sampleContentProvided: false,
    });
    const c = client();
    await c.sendConsumptionData('49571273', { customerConsented: true, consumptionStatus: 1, platform: 2 });
    expect(only().path).toBe('/inApps/v1/transactions/consumption/49571273');
  });

  it('Extend a Subscription Renewal Date: PUT /inApps/v1/subscriptions/extend/4124214', async () => {
    routes = { 'production PUT /inApps/v1/subscriptions/extend/4124214': [[200, 'extendSubscriptionRenewalDateResponse.json']] };
    const res = await client().extendSubscriptionRenewalDate('4124214', {
      extendByDays: 45,
      extendReasonCode: 1,
      requestIdentifier: 'fdf964a4-233b-486c-aac1-97d8d52688ac',
    });
    expect(JSON.parse(only().body)).toEqual({
      extendByDays: 45,
      extendReasonCode: 1,
      requestIdentifier: 'fdf964a4-233b-486c-aac1-97d8d52688ac',
    });
    expect(res).toEqual({ originalTransactionId: '2312412', webOrderLineItemId: '9993', success: true, effectiveDate: 1698148900000 });
  });

  it('Extend for all active subscribers (POST …/extend/mass) and its status (GET …/extend/mass/{productId}/{requestIdentifier})', async () => {
    routes = {
      'production POST /inApps/v1/subscriptions/extend/mass': [[200, 'extendRenewalDateForAllActiveSubscribersResponse.json']],
      'production GET /inApps/v1/subscriptions/extend/mass/com.example.product/20fba8a0-2b80-4a7d-a17f-85c1854727f8': [
        [200, 'getStatusOfSubscriptionRenewalDateExtensionsResponse.json'],
      ],
    };
    const c = client();
    const started = await c.extendRenewalDateForAllActiveSubscribers({
      extendByDays: 45,
      extendReasonCode: 1,
      requestIdentifier: 'fdf964a4-233b-486c-aac1-97d8d52688ac',
      storefrontCountryCodes: ['USA', 'MEX'],
      productId: 'com.example.productId',
    });
    expect(started.requestIdentifier).toBe('758883e8-151b-47b7-abd0-60c4d804c2f5');
    expect(JSON.parse(only().body)).toMatchObject({ storefrontCountryCodes: ['USA', 'MEX'], productId: 'com.example.productId' });
    seen = [];
    const status = await c.getStatusOfSubscriptionRenewalDateExtensions('com.example.product', '20fba8a0-2b80-4a7d-a17f-85c1854727f8');
    expect(status).toEqual({
      requestIdentifier: '20fba8a0-2b80-4a7d-a17f-85c1854727f8',
      complete: true,
      completeDate: 1698148900000,
      succeededCount: 30,
      failedCount: 2,
    });
  });

  it('Get Notification History (POST with paginationToken and body), Request a Test Notification, Get Test Notification Status', async () => {
    routes = {
      'production POST /inApps/v1/notifications/history': [[200, 'getNotificationHistoryResponse.json']],
      'production POST /inApps/v1/notifications/test': [[200, 'requestTestNotificationResponse.json']],
      'production GET /inApps/v1/notifications/test/8cd2974c-f905-492a-bf9a-b2f47c791d19': [
        [200, 'getTestNotificationStatusResponse.json'],
      ],
    };
    const c = client();
    const history = await c.getNotificationHistory(
      {
        startDate: 1698148900000,
        endDate: 1698148950000,
        notificationType: 'SUBSCRIBED',
        notificationSubtype: 'INITIAL_BUY',
        transactionId: '999733843',
        onlyFailures: true,
      },
      'a036bc0e-52b8-4bee-82fc-8c24cb6715d6',
    );
    const r = only();
    expect(r.query).toBe('paginationToken=a036bc0e-52b8-4bee-82fc-8c24cb6715d6');
    expect(JSON.parse(r.body)).toMatchObject({ notificationType: 'SUBSCRIBED', notificationSubtype: 'INITIAL_BUY', onlyFailures: true });
    expect(history.notificationHistory?.[1]).toEqual({
      sendAttempts: [{ attemptDate: 1698148800000, sendAttemptResult: 'CIRCULAR_REDIRECT' }],
      signedPayload: 'signed_payload_two',
    });
    seen = [];
    expect((await c.requestTestNotification()).testNotificationToken).toBe('ce3af791-365e-4c60-841b-1674b43c1609');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ method: 'POST', body: '' });
    expect(seen[0]?.headers['content-type']).not.toBe('application/json');
    seen = [];
    const status = await c.getTestNotificationStatus('8cd2974c-f905-492a-bf9a-b2f47c791d19');
    expect(status.sendAttempts).toEqual([
      { attemptDate: 1698148900000, sendAttemptResult: 'NO_RESPONSE' },
      { attemptDate: 1698148950000, sendAttemptResult: 'SUCCESS' },
    ]);
  });

  it('Get App Transaction Info: GET /inApps/v1/transactions/appTransactions/1234', async () => {
    routes = { 'production GET /inApps/v1/transactions/appTransactions/1234': [[200, 'appTransactionInfoResponse.json']] };
    expect((await client().getAppTransactionInfo('1234')).signedAppTransactionInfo).toBe('signed_app_transaction_info_value');
  });

  it('the bearer token: kid, iss, aud appstoreconnect-v1, bid, five minutes; reused until a minute before it expires', async () => {
    routes = { 'production GET /inApps/v1/transactions/1234': [[200, 'transactionInfoResponse.json']] };
    const c = client();
    await c.getTransactionInfo('1234');
    await c.getTransactionInfo('1234');
    const [a, b] = seen.map((s) => s.headers.authorization);
    expect(a).toBe(b);
    const claims = JSON.parse(Buffer.from((a as string).split('.')[1] as string, 'base64url').toString());
    expect(claims).toEqual({
      iss: 'issuerId',
      iat: Math.floor(NOW / 1000),
      exp: Math.floor(NOW / 1000) + 300,
      aud: 'appstoreconnect-v1',
      bid: 'bundleId',
    });
    clock = NOW + 241_000;
    await c.getTransactionInfo('1234');
    expect(seen[2]?.headers.authorization).not.toBe(a);
    clock = NOW;
  });

  it('401: a token signed by another key is refused → PayProviderError with HTTP 401 and a hint', async () => {
    routes = { 'production GET /inApps/v1/transactions/1234': [[200, 'transactionInfoResponse.json']] };
    const other = generateAppleTestKeyPair().privateKey;
    const e = await client({ privateKey: other })
      .getTransactionInfo('1234')
      .catch((x) => x);
    expect(e).toBeInstanceOf(PayProviderError);
    expect(e.httpStatus).toBe(401);
    expect(e.hint).toMatch(/keyId/);
    expect(e.message).toMatch(/^@pay\/iap: GET \/inApps\/v1\/transactions\/1234: App Store Server API answered HTTP 401/);
  });

  it('404 4040010 in production → tried again on the sandbox with sandboxFallback; PayNotFoundError without', async () => {
    routes = {
      'production GET /inApps/v1/transactions/777': [[404, 'transactionIdNotFoundError.json']],
      'sandbox GET /inApps/v1/transactions/777': [[200, 'transactionInfoResponse.json']],
    };
    const res = await client({ sandboxFallback: true }).getTransactionInfo('777');
    expect(res.signedTransactionInfo).toBe('signed_transaction_info_value');
    expect(seen.map((s) => s.env)).toEqual(['production', 'sandbox']);
    const e = await client()
      .getTransactionInfo('777')
      .catch((x) => x);
    expect(e).toBeInstanceOf(PayNotFoundError);
    expect(e.providerCode).toBe('4040010');
    expect(e.providerMessage).toBe('Transaction id not found.');
    expect(e.hint).toMatch(/sandboxFallback/);
    expect(seen.map((s) => s.env)).toEqual(['production']);
    // Sandbox clients never fall back, and other 404 codes do not trigger it.
    routes = { 'production GET /inApps/v1/transactions/appTransactions/9': [[404, 'appTransactionDoesNotExistError.json']] };
    const e2 = await client({ sandboxFallback: true })
      .getAppTransactionInfo('9')
      .catch((x) => x);
    expect(e2.providerCode).toBe('4040019');
    expect(seen).toHaveLength(1);
  });

  it('429: waited out per Retry-After (UNIX ms) and retried; too long or too often → PayRateLimitError 4290000', async () => {
    const retryAt = String(NOW + 40);
    routes = {
      'production GET /inApps/v1/transactions/1234': [
        [429, 'apiTooManyRequestsException.json', { 'retry-after': retryAt }],
        [200, 'transactionInfoResponse.json'],
      ],
    };
    const sleeps: number[] = [];
    expect((await client({ sleeps }).getTransactionInfo('1234')).signedTransactionInfo).toBe('signed_transaction_info_value');
    expect(sleeps).toEqual([40]);
    expect(seen).toHaveLength(2);

    routes = {
      'production GET /inApps/v1/transactions/1234': [[429, 'apiTooManyRequestsException.json', { 'retry-after': String(NOW + 60_000) }]],
    };
    const e = await client({ sleeps: [] })
      .getTransactionInfo('1234')
      .catch((x) => x);
    expect(e).toBeInstanceOf(PayRateLimitError);
    expect(e.providerCode).toBe('4290000');
    expect(e.providerMessage).toBe('Rate limit exceeded.');
    expect(e.retryAfterMs).toBe(60_000);
    expect(e.retryable).toBe(true);
    expect(seen).toHaveLength(1);

    routes = { 'production GET /inApps/v1/transactions/1234': [[429, 'apiTooManyRequestsException.json', { 'retry-after': retryAt }]] };
    const e2 = await client({ rateLimitRetries: 2 })
      .getTransactionInfo('1234')
      .catch((x) => x);
    expect(e2).toBeInstanceOf(PayRateLimitError);
    expect(seen).toHaveLength(3);
  });

  it('500: PayUpstreamError keeping errorCode 5000000 and the message; retried only by a retrying transport for idempotent calls', async () => {
    routes = { 'production GET /inApps/v1/transactions/1234': [[500, 'apiException.json']] };
    const e = await client()
      .getTransactionInfo('1234')
      .catch((x) => x);
    expect(e).toBeInstanceOf(PayUpstreamError);
    expect(e.httpStatus).toBe(500);
    expect(e.providerCode).toBe('5000000');
    expect(e.providerMessage).toBe('An unknown error occurred.');
    expect(e.retryable).toBe(true);
    const retrying = client({ transport: createHttpTransport({ retries: 2, backoffMs: 1, sleep: async () => {} }) });
    await retrying.getTransactionInfo('1234').catch(() => undefined);
    expect(seen).toHaveLength(3);
    routes = { 'production POST /inApps/v1/notifications/test': [[500, 'apiException.json']] };
    const post = client({ transport: createHttpTransport({ retries: 2, backoffMs: 1, sleep: async () => {} }) });
    await post.requestTestNotification().catch(() => undefined);
    expect(seen).toHaveLength(1); // POST without an idempotency key is not retried
  });

  it('400 with Apple’s codes (including unknown ones) → PayProviderError with the code kept as a string', async () => {
    routes = {
      'production GET /inApps/v1/transactions/1234': [[400, 'apiUnknownError.json']],
      'production PUT /inApps/v1/transactions/49571273/appAccountToken': [[400, 'invalidAppAccountTokenUUIDError.json']],
      'production GET /inApps/v1/transactions/appTransactions/invalid_id': [[400, 'invalidTransactionIdError.json']],
    };
    const c = client();
    const e = await c.getTransactionInfo('1234').catch((x) => x);
    expect(e).toBeInstanceOf(PayProviderError);
    expect([e.httpStatus, e.providerCode, e.providerMessage]).toEqual([400, '9990000', 'Testing error.']);
    const e2 = await c.setAppAccountToken('49571273', 'abc').catch((x) => x);
    expect([e2.providerCode, e2.providerMessage]).toEqual([
      '4000183',
      'Invalid request. The app account token field must be a valid UUID.',
    ]);
    const e3 = await c.getAppTransactionInfo('invalid_id').catch((x) => x);
    expect(e3.providerCode).toBe('4000006');
    expect(e3.detail).toContain('code=4000006');
  });

  it('answers that are not JSON objects → PayResponseError', async () => {
    routes = { 'production GET /inApps/v1/transactions/1234': [[200, 'requestTestNotificationResponse.json']] };
    await expect(client().getTransactionInfo('1234')).resolves.toBeDefined(); // extra fields are fine
    const s2 = await startLoopbackServer(() => ({ status: 200, body: 'not json' }));
    const e = await client({ productionUrl: s2.url })
      .getTransactionInfo('1')
      .catch((x) => x);
    expect(e).toBeInstanceOf(PayResponseError);
    await s2.close();
  });
});

it('parseRetryAfter reads Apple’s UNIX-ms value, HTTP seconds and dates', () => {
  expect(parseRetryAfter(String(NOW + 1500), NOW)).toBe(1500);
  expect(parseRetryAfter(String(NOW - 1500), NOW)).toBe(0);
  expect(parseRetryAfter('3', NOW)).toBe(3000);
  expect(parseRetryAfter(new Date(NOW + 2000).toUTCString(), NOW)).toBe(2000);
  expect(parseRetryAfter('soon', NOW)).toBeUndefined();
  expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
});

it('configuration errors fail at construction', () => {
  const key = generateAppleTestKeyPair().privateKey;
  const base = { privateKey: key, keyId: 'k', issuerId: 'i', bundleId: 'b', environment: 'Production' as const };
  expect(() => new AppStoreServerApiClient({ ...base, keyId: '' })).toThrow(PayConfigError);
  expect(() => new AppStoreServerApiClient({ ...base, environment: 'Xcode' as never })).toThrow(/Xcode has no server API/);
  expect(() => new AppStoreServerApiClient({ ...base, environment: 'LocalTesting' })).toThrow(/localTestingUrl/);
  expect(() => new AppStoreServerApiClient({ ...base, tokenTtlSeconds: 7200 })).toThrow(/3600/);
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
  expect(() => new AppStoreServerApiClient({ ...base, privateKey: rsa })).toThrow(/EC P-256/);
  expect(() => new AppStoreServerApiClient({ ...base, privateKey: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----' })).toThrow(
    PayConfigError,
  );
});

it('arguments are checked before any request', async () => {
  const c = new AppStoreServerApiClient({
    privateKey: generateAppleTestKeyPair().privateKey,
    keyId: 'k',
    issuerId: 'i',
    bundleId: 'b',
    environment: 'Sandbox',
  });
  await expect(c.getTransactionInfo('')).rejects.toThrow(/transactionId: expected a non-empty string/);
  await expect(c.getTransactionHistory('1', {}, undefined, 'v3' as never)).rejects.toThrow(/v1 or v2/);
});
