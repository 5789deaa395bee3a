import type { UnionPayConfig } from '../../src/index.js';
import { gatewaySign, type Hierarchy, rawResponse, type TestCert } from './pki.js';

export const MER_ID = '777290058110048';

/** A client configuration trusting the generated hierarchy. */
export function configFor(h: Hierarchy, over: Partial<UnionPayConfig> = {}): UnionPayConfig {
  return {
    merId: MER_ID,
    environment: 'test',
    signCert: { pfx: h.merchantPfx, password: '000000' },
    rootCert: h.root.pem,
    middleCert: h.middle.pem,
    encryptCert: h.enc.pem,
    ...over,
  };
}

/** Fields of a typical successful consume notification / query answer. */
export function paidFields(over: Record<string, string> = {}): Record<string, string> {
  return {
    version: '5.1.0',
    encoding: 'utf-8',
    signMethod: '01',
    accessType: '0',
    bizType: '000201',
    merId: MER_ID,
    orderId: 'A20260101000001',
    txnTime: '20260101120000',
    txnType: '01',
    txnSubType: '01',
    txnAmt: '8888',
    currencyCode: '156',
    queryId: '792601011200001234567',
    respCode: '00',
    respMsg: 'Success!',
    settleAmt: '8888',
    settleCurrencyCode: '156',
    settleDate: '0101',
    traceNo: '123456',
    traceTime: '0101120000',
    ...over,
  };
}

/** A raw gateway answer signed by `signer` (the generated UnionPay leaf by default). */
export function signedAnswer(h: Hierarchy, fields: Record<string, string>, signer: TestCert = h.leaf): string {
  return rawResponse(gatewaySign(fields, signer));
}
