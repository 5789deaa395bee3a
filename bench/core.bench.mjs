// @pay/core: RSA-2048 SHA-256 sign and verify through the SDK against raw
// node:crypto with the same pre-parsed KeyObject; cold import of each package.
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPrivateKey, loadPublicKey, rsaSign, rsaVerify } from '@pay/core';
import { measureProcess } from './lib.mjs';

export function cases() {
  const { privateKey: pem, publicKey: pub } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const privateKey = loadPrivateKey(pem);
  const publicKey = loadPublicKey(pub);
  const data =
    'app_id=2021000000000000&biz_content={"out_trade_no":"20260101000001","total_amount":"88.88","subject":"测试"}&charset=utf-8&method=alipay.trade.app.pay&sign_type=RSA2&timestamp=2026-01-01 00:00:00&version=1.0';
  const signature = rsaSign('sha256', privateKey, data);
  const cwd = dirname(fileURLToPath(import.meta.url));
  const importCases = ['core', 'alipay', 'wechat', 'unionpay', 'iap'].map((name) => ({
    name: `cold import @pay/${name} (process) vs node -e 0`,
    note: 'ratio = baseline/subject wall time; addedMs must stay <= 80 for provider packages',
    measure: async () => {
      try {
        return measureProcess({ script: `require('@pay/${name}')`, cwd });
      } catch {
        return { opsPerSec: 0, baselineOpsPerSec: 0, ratio: 0, extra: { skipped: `@pay/${name} is not built yet` } };
      }
    },
  }));
  return [
    {
      name: 'core rsaSign sha256 (RSA-2048)',
      subject: () => rsaSign('sha256', privateKey, data),
      baseline: () => sign('sha256', Buffer.from(data, 'utf8'), privateKey).toString('base64'),
      minRatio: 0.95,
    },
    {
      name: 'core rsaVerify sha256 (RSA-2048)',
      subject: () => rsaVerify('sha256', publicKey, data, signature),
      baseline: () => verify('sha256', Buffer.from(data, 'utf8'), publicKey, Buffer.from(signature, 'base64')),
      minRatio: 0.95,
    },
    ...importCases,
  ];
}
