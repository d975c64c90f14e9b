import { expect } from 'chai';
import fc from 'fast-check';
import { USER_AGENT_FAMILIES, userAgentFamily, userAgentKind } from '../../../src/4-baseline/user-agent.ts';

/** userAgent values as CloudTrail records them. */
const SAMPLES: [string, string][] = [
  ['signin.amazonaws.com', 'console'],
  ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36', 'console'],
  ['[S3Console/0.4, aws-internal/3 aws-sdk-java/1.12.488 Linux/5.10.217-182.855.amzn2int.x86_64]', 'console'],
  ['AWS Internal', 'aws-internal'],
  ['lambda.amazonaws.com', 'aws-internal'],
  ['cloudformation.amazonaws.com', 'cloudformation'],
  ['aws-cli/2.15.0 Python/3.11.6 Linux/6.1.61-85.141.amzn2023.x86_64 exe/x86_64.amzn.2023 prompt/off command/s3.ls', 'aws-cli'],
  ['aws-cli/1.29.62 Python/3.9.16 Linux/5.10.192 botocore/1.31.62', 'aws-cli'],
  [
    'Boto3/1.28.62 md/Botocore#1.31.62 ua/2.0 os/linux#5.10 md/arch#x86_64 lang/python#3.11.6 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.31.62',
    'boto3',
  ],
  [
    'APN/1.0 HashiCorp/1.0 Terraform/1.6.3 (+https://www.terraform.io) terraform-provider-aws/5.26.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.23.0 os/linux lang/go#1.20.8',
    'terraform',
  ],
  ['aws-sdk-go/1.44.300 (go1.20.5; linux; amd64)', 'aws-sdk-go'],
  ['aws-sdk-js/3.454.0 ua/2.0 os/linux#5.10.198 lang/js md/nodejs#18.18.2 api/s3#3.454.0', 'aws-sdk-js'],
  ['aws-sdk-nodejs/2.1490.0 linux/v18.18.2 exec-env/AWS_Lambda_nodejs18.x', 'aws-sdk-js'],
  [
    'aws-sdk-java/2.21.10 Linux/5.10.198 OpenJDK_64-Bit_Server_VM/17.0.9+8-LTS Java/17.0.9 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy',
    'aws-sdk-java',
  ],
  ['aws-sdk-dotnet-coreclr/3.7.300.12 aws-sdk-dotnet-core/3.7.300.11 .NET_Core/6.0.25 OS/Microsoft_Windows_10.0.20348', 'aws-sdk-dotnet'],
  ['aws-sdk-ruby3/3.185.1 ruby/3.2.2 x86_64-linux aws-sdk-s3/1.136.0', 'aws-sdk-ruby'],
  ['aws-sdk-php/3.288.1 OS/Linux/5.15 lang/php/8.2.12 GuzzleHttp/7', 'aws-sdk-php'],
  [
    'AWSPowerShell.Common/4.1.472.0 .NET_Runtime/4.0 .NET_Framework/4.0 OS/Microsoft_Windows_NT_10.0.17763.0 WindowsPowerShell/5.0 ClientSync',
    'powershell',
  ],
  ['curl/8.4.0', 'other'],
];

describe('userAgentFamily', () => {
  for (const [ua, family] of SAMPLES) {
    it(`names ${ua.slice(0, 40)}… as ${family}`, () => {
      expect(userAgentFamily(ua)).to.equal(family);
    });
  }

  it('ignores versions: two releases of the same tool are one family', () => {
    expect(userAgentFamily('aws-cli/2.13.0 Python/3.11.4 Darwin/23.0.0 exe/x86_64 prompt/off')).to.equal(
      userAgentFamily('aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64.amzn.2023'),
    );
  });

  it('has no family for a missing or blank user agent', () => {
    expect(userAgentFamily(undefined)).to.equal(undefined);
    expect(userAgentFamily('  ')).to.equal(undefined);
    expect(userAgentFamily(42)).to.equal(undefined);
  });

  it('always answers a family of the closed set for any text', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }).filter((s) => s.trim() !== ''),
        (ua) => {
          expect(USER_AGENT_FAMILIES).to.include(userAgentFamily(ua));
        },
      ),
    );
  });

  it('calls the console a console and everything else automation', () => {
    expect(userAgentKind('console')).to.equal('console');
    for (const f of USER_AGENT_FAMILIES.filter((x) => x !== 'console')) expect(userAgentKind(f)).to.equal('automation');
  });
});
