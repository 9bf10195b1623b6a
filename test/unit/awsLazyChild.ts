// Child of awsSdkLazy.test.ts: records every module specifier resolved, loads the AWS provider's modules, and prints
// which SDK packages were resolved before and after the first call that needs the SDK (one JSON line).
import { registerHooks } from 'node:module';

const resolved = new Set<string>();
registerHooks({
  resolve(specifier, context, next) {
    const match = /^@(aws-sdk|smithy)\/[^/]+/.exec(specifier);
    if (match) resolved.add(match[0]);
    return next(specifier, context);
  },
});

async function main() {
  await import('../../src/provisioning/providers/aws/connection');
  await import('../../src/provisioning/providers/aws/eksToken');
  await import('../../src/provisioning/providers/aws/identity');
  const atImport = [...resolved].sort();
  const { regionInfo } = await import('../../src/provisioning/providers/aws/regions');
  await regionInfo('eu-west-1');
  process.stdout.write(`${JSON.stringify({ atImport, afterUse: [...resolved].sort() })}\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exitCode = 1;
});
