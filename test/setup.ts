/**
 * Loaded by mocha before any test file (.mocharc.json `require`). The AWS SDK prints an 8-line
 * NodeVersionSupportWarning on Node 20; the CLI turns it off with the SDK's documented switch, and so do the
 * tests (child processes inherit it), so the output shows only the reporter.
 */
import { quietSdkNodeVersionWarning } from '../src/entry/cli/process.ts';

quietSdkNodeVersionWarning();
