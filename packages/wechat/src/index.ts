/**
 * `@pay/wechat` (under construction: see the open issue for this package).
 *
 * @packageDocumentation
 */

/** The provider name this package registers under. */
export const PROVIDER_NAME = 'wechat';
