/**
 * The tool behind an event's `userAgent`, without versions: a closed set of families, so a new minor version of
 * the CLI is not a "new user agent". The kind says whether a person at the console or automation made the call.
 */

export const USER_AGENT_FAMILIES = [
  'console',
  'aws-cli',
  'boto3',
  'terraform',
  'aws-sdk-js',
  'aws-sdk-java',
  'aws-sdk-go',
  'aws-sdk-dotnet',
  'aws-sdk-ruby',
  'aws-sdk-php',
  'aws-sdk-rust',
  'aws-sdk-cpp',
  'powershell',
  'cloudformation',
  'aws-internal',
  'other',
] as const;
export type UserAgentFamily = (typeof USER_AGENT_FAMILIES)[number];
export type UserAgentKind = 'console' | 'automation';

/** First match wins: specific tools before the SDK they are built on (the CLI v1 says `botocore`, Terraform says `aws-sdk-go`). */
const RULES: readonly (readonly [RegExp, UserAgentFamily])[] = [
  [/^(?:signin|console|s3console|ec2console)\.amazonaws\.com$/i, 'console'],
  [/^AWS Internal$/i, 'aws-internal'],
  [/\bAWS-?CloudFormation\b|\bcloudformation\.amazonaws\.com\b/i, 'cloudformation'],
  [/^[a-z0-9-]+\.amazonaws\.com$/i, 'aws-internal'],
  [/\b[A-Za-z0-9]*Console\/|\bconsole\.(?:aws\.)?amazon(?:aws)?\.com\b|Mozilla\/\d/, 'console'],
  [/\bTerraform\b|\bterraform-provider-aws\b|\bAPN\/1\.0 HashiCorp\/\d/i, 'terraform'],
  [/\baws-cli\//i, 'aws-cli'],
  [/\b(?:Boto3|Botocore)\//i, 'boto3'],
  [/\baws-sdk-js\b|\baws-sdk-nodejs\b|\bua\/2\.\d+ os\/\S+ lang\/js\b|\blang\/js\b/i, 'aws-sdk-js'],
  [/\baws-sdk-java\b|\blang\/java\b/i, 'aws-sdk-java'],
  [/\baws-sdk-go(?:-v2)?\b|\blang\/go\b/i, 'aws-sdk-go'],
  [/\baws-sdk-dotnet|\bAWSSDK\.|\blang\/\.NET\b/i, 'aws-sdk-dotnet'],
  [/\baws-sdk-ruby|\blang\/ruby\b/i, 'aws-sdk-ruby'],
  [/\baws-sdk-php|\blang\/php\b/i, 'aws-sdk-php'],
  [/\baws-sdk-rust|\blang\/rust\b/i, 'aws-sdk-rust'],
  [/\baws-sdk-cpp|\blang\/c\+\+/i, 'aws-sdk-cpp'],
  [/\bAWSPowerShell\b|\bAWS\.Tools\b/i, 'powershell'],
];

export function userAgentFamily(userAgent: unknown): UserAgentFamily | undefined {
  if (typeof userAgent !== 'string') return undefined;
  const ua = userAgent.trim();
  if (ua === '') return undefined;
  for (const [pattern, family] of RULES) if (pattern.test(ua)) return family;
  return 'other';
}

export function userAgentKind(family: UserAgentFamily): UserAgentKind {
  return family === 'console' ? 'console' : 'automation';
}
