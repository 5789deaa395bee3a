/**
 * wechat emulator (under construction).
 *
 * @module
 */
export {};
