import { expect } from 'chai';
import { quietSdkNodeVersionWarning } from '../../../../src/entry/cli/process.ts';

describe('quietSdkNodeVersionWarning', () => {
  it("sets only the SDK's documented switch for the Node-version warning", () => {
    const env: NodeJS.ProcessEnv = { PATH: '/usr/bin' };
    quietSdkNodeVersionWarning(env);
    expect(env).to.deep.equal({ PATH: '/usr/bin', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' });
  });

  it('keeps the value a user set themselves', () => {
    const env: NodeJS.ProcessEnv = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'false' };
    quietSdkNodeVersionWarning(env);
    expect(env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED).to.equal('false');
  });

  it('is in effect for the test run itself (test/setup.ts), so the SDK prints no NodeVersionSupportWarning', () => {
    expect(process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED).to.be.oneOf(['true', 'false']);
  });
});
