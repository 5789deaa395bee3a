/**
 * alipay emulator (under construction).
 *
 * @module
 */
export {};
