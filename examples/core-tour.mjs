// A short tour of @pay/core on the built package: money in fen, a canonical
// signing string, an RSA2 signature and its verification, and the result contract.
import { generateKeyPairSync } from 'node:crypto';
import {
  canonicalString,
  fromDecimalString,
  loadPrivateKey,
  loadPublicKey,
  rsaSign,
  rsaVerify,
  toDecimalString,
  toPayResult,
} from '@pay/core';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const key = loadPrivateKey(privateKey.export({ format: 'pem', type: 'pkcs1' }).toString());
const pub = loadPublicKey(publicKey.export({ format: 'der', type: 'spki' }).toString('base64'));

const params = { out_trade_no: 'T20260101000001', total_amount: toDecimalString(8888), subject: '测试商品', sign: '', empty: '' };
const content = canonicalString(params, { exclude: ['sign'] });
const sign = rsaSign('sha256', key, content);
console.log('amount 8888 fen =', params.total_amount, 'yuan; back to fen:', fromDecimalString(params.total_amount));
console.log('signed content  :', content);
console.log('RSA2 verifies   :', rsaVerify('sha256', pub, content, sign));
console.log('tampered        :', rsaVerify('sha256', pub, content.replace('88.88', '0.01'), sign));
console.log('contract (ok)   :', JSON.stringify(await toPayResult(() => ({ sign: `${sign.slice(0, 16)}…` }), 'demo-1')));
console.log('contract (error):', JSON.stringify(await toPayResult(() => fromDecimalString('1.005'))));
