/**
 * Who an event's baseline belongs to. Session names change every session, so an assumed role is baselined by
 * its role's ARN; an IAM Identity Center user (an `AWSReservedSSO_` role) by that role plus the user name (the
 * session name). IAM users, root and federated users by their ARN. AWS services and unknown identities have
 * no baseline (undefined).
 */

const ASSUMED_ROLE = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/(.+)$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/(?:.+\/)?([^/]+)$/;
/** IAM: ARNs up to 2048 characters; nothing longer is a real principal. */
export const MAX_PRINCIPAL_LENGTH = 2048 + 1 + 64;

export function principalOf(userIdentity: unknown): string | undefined {
  if (typeof userIdentity !== 'object' || userIdentity === null) return undefined;
  const id = userIdentity as Record<string, unknown>;
  const type = id['type'];
  const arn = typeof id['arn'] === 'string' ? id['arn'] : undefined;
  let principal: string | undefined;
  if (type === 'IAMUser' || type === 'Root' || type === 'FederatedUser') principal = arn;
  else if (type === 'AssumedRole') principal = assumedRolePrincipal(id, arn);
  else return undefined;
  return principal !== undefined && principal.length <= MAX_PRINCIPAL_LENGTH ? principal : undefined;
}

function assumedRolePrincipal(id: Record<string, unknown>, arn: string | undefined): string | undefined {
  const m = arn === undefined ? null : ASSUMED_ROLE.exec(arn);
  const issuer = ((id['sessionContext'] as Record<string, unknown> | undefined)?.['sessionIssuer'] ?? undefined) as
    Record<string, unknown> | undefined;
  const issuerArn = typeof issuer?.['arn'] === 'string' && ROLE_ARN.test(issuer['arn']) ? issuer['arn'] : undefined;
  // The issuer carries the role's path; the assumed-role ARN only its name.
  const role = issuerArn ?? (m !== null ? `arn:${m[1]}:iam::${m[2]}:role/${m[3]}` : undefined);
  if (role === undefined) return undefined;
  const roleName = ROLE_ARN.exec(role)?.[1] ?? '';
  if (roleName.startsWith('AWSReservedSSO_')) {
    const session = m?.[4];
    return session === undefined ? undefined : `${role}/${session}`;
  }
  return role;
}
