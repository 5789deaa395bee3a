/**
 * Lazily loaded heavy dependencies. node-forge and axios are required on first
 * use only (a PKCS#12 load, a legacy decrypt, the first HTTP call), so importing
 * a pay-sdk package stays cheap and verification hot paths never touch them.
 *
 * @module
 * @internal
 */
import { createRequire } from 'node:module';

const requireHere = createRequire(import.meta.url);

let forgeModule: typeof import('node-forge') | undefined;
let axiosModule: typeof import('axios').default | undefined;

/** node-forge, loaded on first call. @internal */
export function loadForge(): typeof import('node-forge') {
  if (forgeModule === undefined) forgeModule = requireHere('node-forge') as typeof import('node-forge');
  return forgeModule;
}

/** axios, loaded on first call. @internal */
export function loadAxios(): typeof import('axios').default {
  if (axiosModule === undefined) {
    const mod = requireHere('axios') as typeof import('axios').default & { default?: typeof import('axios').default };
    axiosModule = mod.default ?? mod;
  }
  return axiosModule;
}
