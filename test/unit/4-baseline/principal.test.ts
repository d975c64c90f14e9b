import { expect } from 'chai';
import { principalOf } from '../../../src/4-baseline/principal.ts';

describe('principalOf', () => {
  it('keys IAM users, root and federated users by their ARN', () => {
    expect(principalOf({ type: 'IAMUser', arn: 'arn:aws:iam::123456789012:user/dev/alice' })).to.equal(
      'arn:aws:iam::123456789012:user/dev/alice',
    );
    expect(principalOf({ type: 'Root', arn: 'arn:aws:iam::123456789012:root' })).to.equal('arn:aws:iam::123456789012:root');
    expect(principalOf({ type: 'FederatedUser', arn: 'arn:aws:sts::123456789012:federated-user/bob' })).to.equal(
      'arn:aws:sts::123456789012:federated-user/bob',
    );
  });

  it('keys an assumed role by the role (with its path from the session issuer), whatever the session name', () => {
    const id = (session: string) => ({
      type: 'AssumedRole',
      arn: `arn:aws:sts::123456789012:assumed-role/deployer/${session}`,
      sessionContext: { sessionIssuer: { type: 'Role', arn: 'arn:aws:iam::123456789012:role/ci/deployer' } },
    });
    expect(principalOf(id('build-1'))).to.equal('arn:aws:iam::123456789012:role/ci/deployer');
    expect(principalOf(id('build-2'))).to.equal(principalOf(id('build-1')));
  });

  it('derives the role ARN from the assumed-role ARN when there is no session issuer', () => {
    expect(principalOf({ type: 'AssumedRole', arn: 'arn:aws-us-gov:sts::123456789012:assumed-role/reader/i-0abc' })).to.equal(
      'arn:aws-us-gov:iam::123456789012:role/reader',
    );
  });

  it('keys an IAM Identity Center user by the permission-set role plus the user name', () => {
    const role = 'arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123456789abcdef';
    const id = (user: string) => ({
      type: 'AssumedRole',
      arn: `arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/${user}`,
      sessionContext: { sessionIssuer: { type: 'Role', arn: role } },
    });
    expect(principalOf(id('alice@example.com'))).to.equal(`${role}/alice@example.com`);
    expect(principalOf(id('bob@example.com'))).to.not.equal(principalOf(id('alice@example.com')));
  });

  it('has no baseline for AWS services, unknown identities and malformed values', () => {
    expect(principalOf({ type: 'AWSService', invokedBy: 'lambda.amazonaws.com' })).to.equal(undefined);
    expect(principalOf({ type: 'AWSAccount', accountId: '111122223333' })).to.equal(undefined);
    expect(principalOf({ type: 'IAMUser' })).to.equal(undefined);
    expect(principalOf({ type: 'AssumedRole', arn: 'not-an-arn' })).to.equal(undefined);
    expect(principalOf(undefined)).to.equal(undefined);
    expect(principalOf('arn:aws:iam::123456789012:user/alice')).to.equal(undefined);
    expect(principalOf({ type: 'IAMUser', arn: `arn:aws:iam::123456789012:user/${'a'.repeat(3000)}` })).to.equal(undefined);
  });
});
