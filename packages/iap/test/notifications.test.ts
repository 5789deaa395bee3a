// App Store Server Notifications V2: delivered by the emulator over 127.0.0.1 to a node:http endpoint,
// verified with their nested signed data; Apple's model payloads decoded field by field.

import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fromNodeRequest, fromParts, PayArgumentError, PayMismatchError, SeenIds, writeNodeReply } from '@pay/core';
import { type IapEmulator, startIapEmulator } from '@pay/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeVectors, readVectorJson } from '../../../test-utils/vectors.js';
import {
  IapClient,
  IapProvider,
  NotificationProcessor,
  notificationEventKind,
  readSignedPayload,
  SignedDataVerifier,
  VerificationReason,
  type VerifiedNotification,
} from '../src/index.js';
import { NOW, rejection, sign, testChain } from './helpers.js';

let emu: IapEmulator;
let server: Server;
let iap: IapClient;
const received: Array<VerifiedNotification | Error> = [];

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const provider = new IapProvider(iap);
    try {
      received.push(await iap.parseNotification(await fromNodeRequest(req)));
      writeNodeReply(res, provider.notificationReply({ ok: true }));
    } catch (e) {
      received.push(e as Error);
      writeNodeReply(res, provider.notificationReply({ ok: false, error: e as never }));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const notifyUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/apple/notifications`;
  emu = await startIapEmulator({ notifyUrl });
  iap = new IapClient(emu.clientConfig);
});

afterAll(async () => {
  await emu.close();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

async function deliveredFor(uuid: string | undefined): Promise<VerifiedNotification[]> {
  await emu.idle();
  return received.filter((n): n is VerifiedNotification => !(n instanceof Error) && n.notificationUUID === uuid);
}

describe('notifications from the App Store emulator', () => {
  it('ONE_TIME_CHARGE: verified, with the nested signed transaction verified and decoded; acknowledged with HTTP 200', async () => {
    const token = randomUUID();
    const bought = await emu.pay(token, { productId: 'com.example.coins100' });
    const [n] = await deliveredFor(bought.notificationUUID);
    expect(n).toMatchObject({ notificationType: 'ONE_TIME_CHARGE', knownType: true, duplicate: false });
    expect(n?.transaction).toMatchObject({
      transactionId: bought.transaction.transactionId,
      appAccountToken: token,
      bundleId: emu.clientConfig.bundleId,
    });
    expect(n?.renewalInfo).toBeUndefined();
    expect(emu.notifier.log.at(-1)).toMatchObject({ status: 200, acknowledged: true });
  });

  it('SUBSCRIBED / INITIAL_BUY carries renewal info, verified too; DID_RENEW, EXPIRED, REFUND follow', async () => {
    const sub = await emu.pay(randomUUID(), { productId: 'com.example.pro.monthly' });
    const [n] = await deliveredFor(sub.notificationUUID);
    expect(n).toMatchObject({ notificationType: 'SUBSCRIBED', subtype: 'INITIAL_BUY' });
    expect(n?.renewalInfo).toMatchObject({ originalTransactionId: sub.transaction.originalTransactionId, autoRenewStatus: 1 });
    expect(n?.payload.data?.status).toBe(1);
    const renewed = await emu.renew(sub.transaction.originalTransactionId);
    expect((await deliveredFor(renewed.notificationUUID))[0]?.notificationType).toBe('DID_RENEW');
    const expired = await emu.expire(sub.transaction.originalTransactionId);
    expect((await deliveredFor(expired?.notificationUUID))[0]).toMatchObject({ notificationType: 'EXPIRED', subtype: 'VOLUNTARY' });
    const refund = await emu.refund(renewed.transaction.transactionId, { percentage: 50_000 });
    const [r] = await deliveredFor(refund?.notificationUUID);
    expect(r?.transaction).toMatchObject({ revocationType: 'REFUND_PRORATED', revocationPercentage: 50_000 });
  });

  it('a TEST notification asked through the App Store Server API arrives and verifies', async () => {
    const { testNotificationToken } = (await iap.api?.requestTestNotification()) ?? {};
    expect(testNotificationToken).toBeDefined();
    await new Promise((r) => setTimeout(r, 20));
    await emu.idle();
    const test = received.find((n) => !(n instanceof Error) && n.notificationType === 'TEST') as VerifiedNotification;
    expect(test.payload.data?.environment).toBe('Sandbox');
    const status = await iap.api?.getTestNotificationStatus(testNotificationToken as string);
    expect(status?.signedPayload).toBe(emu.notifications.at(-1)?.signedPayload);
    expect(status?.sendAttempts?.[0]?.sendAttemptResult).toBe('SUCCESS');
  });

  it('a duplicated delivery is recognised by notificationUUID (verified both times, flagged the second)', async () => {
    emu.notifier.faults.duplicate = 1;
    const bought = await emu.pay(randomUUID(), { productId: 'com.example.premium' });
    const copies = await deliveredFor(bought.notificationUUID);
    expect(copies).toHaveLength(2);
    expect(copies.map((c) => c.duplicate).sort()).toEqual([false, true]);
  });

  it('a tampered delivery fails verification, is answered 400, and Apple’s retries (1, 12, 24, 48, 72 h scaled) follow', async () => {
    emu.notifier.faults.tamper = 1;
    const before = emu.notifier.log.length;
    const errorsBefore = received.filter((r) => r instanceof Error).length;
    await emu.pay(randomUUID(), { productId: 'com.example.premium' });
    await emu.idle();
    const attempts = emu.notifier.log.slice(before);
    expect(attempts).toHaveLength(6);
    expect(attempts.every((a) => a.status === 400 && !a.acknowledged && a.fault === 'tampered')).toBe(true);
    const errors = received.filter((r) => r instanceof Error).slice(errorsBefore) as Array<Error & { reason?: string }>;
    expect(errors).toHaveLength(6);
    expect(errors.every((e) => e.reason === VerificationReason.VERIFICATION_FAILURE || e instanceof PayArgumentError)).toBe(true);
  });

  it('notification history from the API holds what was sent', async () => {
    const history = await iap.api?.getNotificationHistory({ startDate: 0, endDate: Date.now() + 1000 });
    expect(history?.notificationHistory?.length).toBeGreaterThan(0);
    const n = await iap.verifySignedNotification(history?.notificationHistory?.[0]?.signedPayload as string);
    expect(n.notificationUUID).toBe(emu.notifications[0]?.notificationUUID);
  });
});

describe('NotificationProcessor on crafted data', () => {
  const chain = testChain();
  const verifier = new SignedDataVerifier({
    roots: [chain.root.der],
    bundleId: 'com.example.app',
    environment: 'Sandbox',
    clock: () => NOW,
  });
  const data = { bundleId: 'com.example.app', environment: 'Sandbox', appAppleId: 1 };
  const tx = { transactionId: '1', bundleId: 'com.example.app', environment: 'Sandbox', productId: 'p', signedDate: NOW };
  const body = (payload: Record<string, unknown>) => JSON.stringify({ signedPayload: sign(payload, chain) });

  it('unknown types and subtypes pass through (knownType false), they are not rejected', async () => {
    const p = new NotificationProcessor(verifier);
    const n = await p.process(
      body({ notificationType: 'SOMETHING_NEW', subtype: 'ALSO_NEW', notificationUUID: 'u1', data, signedDate: NOW }),
    );
    expect(n).toMatchObject({ notificationType: 'SOMETHING_NEW', subtype: 'ALSO_NEW', knownType: false });
    expect(notificationEventKind(n.notificationType, n.subtype)).toBe('other');
  });

  it('a tampered nested signedTransactionInfo under a valid outer signature → VERIFICATION_FAILURE', async () => {
    const inner = sign(tx, chain);
    const [h, , s] = inner.split('.');
    const forgedInner = `${h}.${Buffer.from(JSON.stringify({ ...tx, productId: 'expensive' })).toString('base64url')}.${s}`;
    const p = new NotificationProcessor(verifier);
    const e = await rejection(
      p.process(
        body({
          notificationType: 'ONE_TIME_CHARGE',
          notificationUUID: 'u2',
          data: { ...data, signedTransactionInfo: forgedInner },
          signedDate: NOW,
        }),
      ),
    );
    expect(e.reason).toBe(VerificationReason.VERIFICATION_FAILURE);
  });

  it('a nested transaction of another app, or nested renewal info of another environment → refused', async () => {
    const p = new NotificationProcessor(verifier);
    const other = sign({ ...tx, bundleId: 'com.evil' }, chain);
    const e = await rejection(
      p.process(
        body({ notificationType: 'REFUND', notificationUUID: 'u3', data: { ...data, signedTransactionInfo: other }, signedDate: NOW }),
      ),
    );
    expect(e).toBeInstanceOf(PayMismatchError);
    expect(e.reason).toBe(VerificationReason.INVALID_APP_IDENTIFIER);
    const renewal = sign({ originalTransactionId: '1', environment: 'Production', signedDate: NOW }, chain);
    const e2 = await rejection(
      p.process(
        body({ notificationType: 'DID_RENEW', notificationUUID: 'u4', data: { ...data, signedRenewalInfo: renewal }, signedDate: NOW }),
      ),
    );
    expect(e2.reason).toBe(VerificationReason.INVALID_ENVIRONMENT);
  });

  it('only the first processing of a UUID is new; a failed verification does not mark it seen', async () => {
    const p = new NotificationProcessor(verifier, new SeenIds(10));
    const good = body({ notificationType: 'TEST', notificationUUID: 'u5', data, signedDate: NOW });
    await rejection(p.process(good.replace('"}', 'x"}')));
    expect((await p.process(good)).duplicate).toBe(false);
    expect((await p.process(good)).duplicate).toBe(true);
  });

  it('bodies that are not V2 notifications → PayArgumentError; missing type or UUID → VERIFICATION_FAILURE', async () => {
    const p = new NotificationProcessor(verifier);
    for (const bad of [
      '',
      'signedPayload=abc',
      '{"notificationType":"DID_RENEW","password":"x"}',
      '{"signedPayload":""}',
      '{"signedPayload":7}',
      'null',
    ]) {
      expect(await rejection(p.process(bad))).toBeInstanceOf(PayArgumentError);
    }
    expect(
      await rejection(p.process(fromParts({ method: 'GET', rawBody: body({ notificationType: 'TEST', notificationUUID: 'x', data }) }))),
    ).toBeInstanceOf(PayArgumentError);
    expect((await rejection(p.process(body({ notificationUUID: 'u6', data })))).reason).toBe(VerificationReason.VERIFICATION_FAILURE);
    expect((await rejection(p.process(body({ notificationType: 'TEST', data })))).reason).toBe(VerificationReason.VERIFICATION_FAILURE);
    expect(() => readSignedPayload('{"signedPayload":"a.b.c"}')).not.toThrow();
  });

  it('maps types to unified events', () => {
    expect(notificationEventKind('SUBSCRIBED', 'INITIAL_BUY')).toBe('paid');
    expect(notificationEventKind('SUBSCRIBED', 'RESUBSCRIBE')).toBe('paid');
    expect(notificationEventKind('ONE_TIME_CHARGE')).toBe('paid');
    expect(notificationEventKind('OFFER_REDEEMED', 'INITIAL_BUY')).toBe('paid');
    expect(notificationEventKind('OFFER_REDEEMED', 'UPGRADE')).toBe('other');
    expect(notificationEventKind('DID_RENEW')).toBe('renewed');
    expect(notificationEventKind('REFUND')).toBe('refunded');
    expect(notificationEventKind('REVOKE')).toBe('revoked');
    expect(notificationEventKind('EXPIRED', 'VOLUNTARY')).toBe('expired');
    expect(notificationEventKind('GRACE_PERIOD_EXPIRED')).toBe('expired');
    for (const t of ['TEST', 'CONSUMPTION_REQUEST', 'DID_FAIL_TO_RENEW', 'REFUND_DECLINED', 'REFUND_REVERSED', 'PRICE_INCREASE']) {
      expect(notificationEventKind(t)).toBe('other');
    }
  });
});

describeVectors('Apple’s notification models (signed here, decoded as the official tests do)', () => {
  const chain = testChain();
  const local = new SignedDataVerifier({
    roots: [],
    bundleId: 'com.example',
    environment: 'LocalTesting',
    acceptUnverifiedTestEnvironment: true,
  });

  it('signedNotification.json → SUBSCRIBED / INITIAL_BUY, data fields mapped', async () => {
    const n = await local.verifyNotification(sign(readVectorJson('iap', 'models', 'signedNotification.json'), chain));
    expect(n).toMatchObject({
      notificationType: 'SUBSCRIBED',
      subtype: 'INITIAL_BUY',
      notificationUUID: '002e14d5-51f5-4503-b5a8-c3a1af68eb20',
      version: '2.0',
      signedDate: 1698148900000,
    });
    expect(n.data).toEqual({
      environment: 'LocalTesting',
      appAppleId: 41234,
      bundleId: 'com.example',
      bundleVersion: '1.2.3',
      signedTransactionInfo: 'signed_transaction_info_value',
      signedRenewalInfo: 'signed_renewal_info_value',
      status: 1,
    });
  });

  it('signedSummaryNotification.json → RENEWAL_EXTENSION / SUMMARY with the summary', async () => {
    const n = await local.verifyNotification(sign(readVectorJson('iap', 'models', 'signedSummaryNotification.json'), chain));
    expect(n.summary).toMatchObject({
      requestIdentifier: 'efb27071-45a4-4aca-9854-2a1e9146f265',
      storefrontCountryCodes: ['CAN', 'USA', 'MEX'],
      succeededCount: 5,
      failedCount: 2,
    });
  });

  it('signedConsumptionRequestNotification.json and signedRescindConsentNotification.json decode', async () => {
    const c = await local.verifyNotification(sign(readVectorJson('iap', 'models', 'signedConsumptionRequestNotification.json'), chain));
    expect(c.data?.consumptionRequestReason).toBe('UNINTENDED_PURCHASE');
    const r = await local.verifyNotification(sign(readVectorJson('iap', 'models', 'signedRescindConsentNotification.json'), chain));
    expect(r).toMatchObject({
      notificationType: 'RESCIND_CONSENT',
      appData: { appAppleId: 41234, signedAppTransactionInfo: 'signed_app_transaction_info_value' },
    });
  });

  it('external purchase tokens: environment from the SANDBOX prefix, checked with a real chain verification', async () => {
    // valid when the models were signed (signedDate 2023-10-24)
    const chain = testChain({ notBefore: Date.UTC(2023, 0, 1) });
    const prod = new SignedDataVerifier({
      roots: [chain.root.der],
      bundleId: 'com.example',
      environment: 'Production',
      appAppleId: 55555,
      clock: () => NOW,
    });
    const sandbox = new SignedDataVerifier({ roots: [chain.root.der], bundleId: 'com.example', environment: 'Sandbox', clock: () => NOW });
    const production = sign(readVectorJson('iap', 'models', 'signedExternalPurchaseTokenNotification.json'), chain);
    const sandboxToken = sign(readVectorJson('iap', 'models', 'signedExternalPurchaseTokenSandboxNotification.json'), chain);
    expect((await prod.verifyNotification(production)).externalPurchaseToken?.externalPurchaseId).toBe(
      'b2158121-7af9-49d4-9561-1f588205523e',
    );
    expect((await sandbox.verifyNotification(sandboxToken)).subtype).toBe('UNREPORTED');
    expect((await rejection(prod.verifyNotification(sandboxToken))).reason).toBe(VerificationReason.INVALID_ENVIRONMENT);
  });

  it('signedTransaction.json, signedRenewalInfo.json, appTransaction.json map every field', async () => {
    const t = readVectorJson('iap', 'models', 'signedTransaction.json');
    expect(await local.verifyTransaction(sign(t, chain))).toEqual(t);
    const r = readVectorJson('iap', 'models', 'signedRenewalInfo.json');
    expect(await local.verifyRenewalInfo(sign(r, chain))).toEqual(r);
    const a = readVectorJson('iap', 'models', 'appTransaction.json');
    expect(await local.verifyAppTransaction(sign(a, chain))).toEqual(a);
    const revoked = readVectorJson('iap', 'models', 'signedTransactionWithRevocation.json');
    expect(await local.verifyTransaction(sign(revoked, chain))).toMatchObject({
      revocationType: 'REFUND_PRORATED',
      revocationPercentage: 50000,
    });
  });
});
