/**
 * The only process-touching part of the command line: environment defaults, Ctrl-C, the exit code.
 */

/**
 * The AWS SDK prints an 8-line NodeVersionSupportWarning on Node 20. Its documented switch turns off that warning
 * only (aws/aws-sdk-js-v3#7983); a user who sets the variable themselves keeps their value.
 */
export function quietSdkNodeVersionWarning(env: NodeJS.ProcessEnv = process.env): void {
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

export async function runFromProcess(main: (argv: string[]) => Promise<number>): Promise<void> {
  quietSdkNodeVersionWarning();
  process.once('SIGINT', () => {
    process.stderr.write('\ncloudtrail-enricher: interrupted\n');
    process.exit(130);
  });
  process.exitCode = await main(process.argv.slice(2));
}
