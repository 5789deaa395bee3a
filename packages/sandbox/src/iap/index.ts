/**
 * iap emulator (under construction).
 *
 * @module
 */
export {};
