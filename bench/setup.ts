/**
 * Imported before the benchmark, the profile and the soak (`node --import ./bench/setup.ts`): turns off the AWS
 * SDK's NodeVersionSupportWarning with the SDK's documented switch, as the CLI and the tests do, so their output
 * holds only the measurements. Child processes get the same variable passed on.
 */
import { quietSdkNodeVersionWarning } from '../src/entry/cli/process.ts';

quietSdkNodeVersionWarning();
