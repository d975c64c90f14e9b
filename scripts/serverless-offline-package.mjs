/**
 * Local osls plugin: makes `serverless package` work offline and without AWS credentials.
 *
 * Why: osls (like Serverless Framework v3) calls CloudFormation DescribeStacks while *packaging* a service
 * that has `layers:`, to reuse the previous upload of an unchanged layer (lib/plugins/aws/package/compile/
 * layers.js, compareWithLastLayer). Without credentials or network that call fails and packaging aborts.
 *
 * What: for the `package` command only, the comparison is skipped; the template then always points at the
 * freshly built layer artifact. `serverless deploy` (which packages as part of the deploy) keeps the
 * comparison, so an unchanged geo layer (≈100 MB zipped) is not uploaded again on every deploy.
 *
 * This patches one method of a core plugin of the exact osls version pinned in package.json; if osls
 * renames it, packaging fails loudly here rather than silently talking to AWS.
 */
export default class OfflinePackagePlugin {
  constructor(serverless) {
    const command = serverless.processedInput?.commands?.[0];
    if (command !== 'package') return;
    const plugins = serverless.pluginManager?.plugins ?? [];
    const layers = plugins.find((plugin) => plugin?.constructor?.name === 'AwsCompileLayers');
    if (!layers || typeof layers.compareWithLastLayer !== 'function') {
      throw new Error(
        'serverless-offline-package: the osls core plugin AwsCompileLayers.compareWithLastLayer was not found; ' +
          'this plugin supports osls 4.3.x — check the installed osls version',
      );
    }
    layers.compareWithLastLayer = async () => undefined;
  }
}
