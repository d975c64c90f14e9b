/**
 * The one list of providers. Everything else derives from it (the ProviderName type, the registry's keys, config,
 * cache item attributes). Kept apart from registry.ts so that the provider files can name the type without an
 * import cycle through the registry's factories.
 */
export const PROVIDER_NAMES = ['ipstack', 'ipqualityscore', 'autofocus', 'abuseipdb'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];
