// Starts the four provider emulators of @pay/sandbox on 127.0.0.1 and builds the
// real provider clients, their ledger adapters and one ledger over them: the
// same objects a production backend builds, pointed at local servers.

import { AlipayClient, AlipayProvider } from '@pay/alipay';
import { createPayments, MemoryPaymentStore } from '@pay/core';
import { IapClient, IapProvider } from '@pay/iap';
import { startAlipayEmulator, startIapEmulator, startUnionPayEmulator, startWechatPayEmulator } from '@pay/sandbox';
import { createUnionPayProvider, UnionPayClient } from '@pay/unionpay';
import { WechatPayClient, WechatPayProvider } from '@pay/wechat';

/**
 * @param {{ hooks?: import('@pay/core').LedgerHooks, store?: import('@pay/core').PaymentStore }} [options]
 */
export async function startSandboxPayments(options = {}) {
  const [alipay, wechat, unionpay, iap] = await Promise.all([
    startAlipayEmulator({ timeScale: 0.00001 }),
    startWechatPayEmulator({ v2: false }),
    startUnionPayEmulator(),
    startIapEmulator(),
  ]);
  const clients = {
    alipay: new AlipayClient(alipay.clientConfig),
    wechat: new WechatPayClient(wechat.clientConfig),
    unionpay: new UnionPayClient(unionpay.clientConfig),
    iap: new IapClient(iap.clientConfig),
  };
  const providers = {
    alipay: new AlipayProvider(clients.alipay),
    wechat: new WechatPayProvider(clients.wechat),
    unionpay: createUnionPayProvider({ client: clients.unionpay }),
    iap: new IapProvider(clients.iap),
  };
  const store = options.store ?? new MemoryPaymentStore();
  const payments = createPayments({ providers, store, hooks: options.hooks ?? {} });
  const emulators = { alipay, wechat, unionpay, iap };
  return {
    payments,
    store,
    clients,
    providers,
    emulators,
    /** Resolves when every emulator has delivered its notifications. */
    idle: () => Promise.all(Object.values(emulators).map((e) => e.notifier.idle())),
    close: () => Promise.all(Object.values(emulators).map((e) => e.close())),
  };
}
