import { expect } from 'chai';
import { fixture, fixtureNames } from './helpers.ts';

/**
 * The CloudTrail fixtures are shared with the pipeline tests and the sample generator, so they must keep
 * the genuine CloudTrail record shape (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html).
 */
describe('CloudTrail fixtures (test/fixtures/cloudtrail)', () => {
  const names = fixtureNames();

  it('has the events the rules tests rely on', () => {
    expect(names.length).to.be.greaterThanOrEqual(30);
  });

  it('have unique eventIDs', () => {
    const ids = names.map((n) => fixture(n).eventID);
    expect(new Set(ids).size).to.equal(ids.length);
  });

  for (const name of names) {
    it(`${name} is a well-formed CloudTrail record`, () => {
      const e = fixture(name);
      expect(e.eventVersion).to.be.oneOf(['1.08', '1.09', '1.10', '1.11']);
      expect(e.eventTime).to.match(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      expect(e.eventSource).to.match(/^[a-z0-9-]+\.amazonaws\.com$/);
      expect(e.eventName).to.match(/^[A-Z][A-Za-z0-9]+$/);
      expect(e.awsRegion).to.match(/^[a-z]{2}(-[a-z]+)+-\d$/);
      expect(e.sourceIPAddress)
        .to.be.a('string')
        .and.not.match(/^(192\.0\.2|198\.51\.100|203\.0\.113)\./);
      expect(e.userAgent).to.be.a('string');
      expect(e.userIdentity).to.be.an('object').that.has.property('type');
      expect(e.recipientAccountId).to.match(/^\d{12}$/);
      expect(e.eventID).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(e.eventType).to.be.oneOf(['AwsApiCall', 'AwsConsoleSignIn', 'AwsServiceEvent']);
      expect(e.eventCategory).to.equal('Management');
      expect(e.managementEvent).to.equal(true);
      expect(e.readOnly).to.be.a('boolean');
      expect(e).to.have.property('requestParameters');
      expect(e).to.have.property('responseElements');
      expect(e).to.not.have.property('enrichment');
    });
  }
});
