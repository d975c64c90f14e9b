/**
 * The lookup stage (IP intelligence): offline geolocation/ASN, an L1 + DynamoDB cache, and four optional providers.
 * See README.md, "IP intelligence".
 */
export {
  parseLookupConfig,
  LOOKUP_CONFIG_VARIABLES,
  PROVIDER_NAMES,
  SOURCE_NAMES,
  type LookupConfig,
  type ProviderConfig,
  type ProviderName,
  type SourceName,
  type ConfigVariable,
} from './config.ts';
export { createIpIntelligence, DefaultIpIntelligence, type IpIntelligenceDeps } from './ip-intelligence.ts';
export { openGeoDatabase, type GeoDatabase, type GeoAnswer } from './geo/geo-database.ts';
export { defaultGeoDbDir, LAYER_GEO_DIR } from './geo/geo-dir.ts';
export { DynamoDbIpCache, type DynamoDbIpCacheOptions } from './cache/dynamodb-cache.ts';
export type { IpCache, CachedIp, CacheEntry } from './cache/types.ts';
export { createKeyResolver, type KeyResolver } from './keys.ts';
export { scrubSecrets, scrubError, REDACTED } from './http/scrub.ts';
export { isPublicUnicast } from './address.ts';
export type { IpIntelligence, LookupOptions, LookupStats } from './types.ts';
