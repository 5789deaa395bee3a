/**
 * unionpay emulator (under construction).
 *
 * @module
 */
export {};
