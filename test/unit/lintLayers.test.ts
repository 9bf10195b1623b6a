// The architecture's import rules are enforced by `npm run lint` (eslint/layers.mjs): a forbidden import fails, an
// allowed one passes, so the rules cannot silently stop working.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { ESLint } from 'eslint';

const root = path.join(__dirname, '..', '..');
const eslint = new ESLint({ cwd: root });

async function messages(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return (result?.messages ?? []).map((m) => `${m.ruleId}: ${m.message}`);
}

const forbidden: [string, string, RegExp][] = [
  ['src/model/x.ts', "import { plan } from '../provisioning/planner';", /^layers\/layers: model\/ may not import provisioning\/ \(model\/ may import nothing else of src/],
  ['src/analyzer/x.ts', "import { EnvStore } from '../environments/store';", /^layers\/layers: analyzer\/ may not import environments\//],
  ['src/provisioning/engine/x.ts', "import { EnvStore } from '../../environments/store';", /^layers\/layers: provisioning\/ may not import environments\//],
  ['src/provisioning/x.ts', "export * from '../session';", /^layers\/layers: provisioning\/ may not import session\//],
  ['src/extension/provision/x.ts', "import { apply } from '../../provisioning/engine';", /^layers\/layers: extension\/ may not import provisioning\//],
  ['src/cli/x.ts', "const m = import('../provisioning/providers');", /^layers\/layers: cli\/ may not import provisioning\//],
  ['src/cli/x.ts', "import { activate } from '../extension/extension';", /^layers\/layers: cli\/ may not import extension\//],
  ['src/server/x.ts', "import { EnvStore } from '../environments/store';", /^layers\/layers: server\/ may not import environments\//],
  ['src/files/x.ts', "import type { Environment } from '../model/environment';", /^layers\/layers: files\/ may not import model\//],
  ['webview/x.ts', "import { EnvStore } from '../src/environments/store';", /^layers\/layers: webview\/ may not import environments\//],
];

test('a forbidden import between top-level folders fails the lint, naming both and what is allowed', async () => {
  for (const [file, code, message] of forbidden) {
    const found = await messages(file, `${code}\nexport const used = 1;\n`);
    assert.ok(found.some((m) => message.test(m)), `${file}: ${code} gave ${JSON.stringify(found)}`);
  }
});

test('imports the architecture allows pass', async () => {
  const allowed: [string, string][] = [
    ['src/model/x.ts', "import type { AppModel } from './appModel';"],
    ['src/provisioning/x.ts', "import { writeTemp } from '../files/atomicWrite';"],
    ['src/session/x.ts', "import { EnvStore } from '../environments/store';"],
    ['src/extension/x.ts', "import { EnvironmentSession } from '../session';"],
    ['webview/x.ts', "import type { HostMessage } from '../src/model/messages';"],
  ];
  for (const [file, code] of allowed) {
    const found = (await messages(file, `${code}\nexport const used = 1;\n`)).filter((m) => m.startsWith('layers/'));
    assert.deepEqual(found, [], `${file}: ${code}`);
  }
});

test('vscode is imported only by the extension', async () => {
  const found = await messages('src/session/x.ts', "import * as vscode from 'vscode';\nexport const used = vscode;\n");
  assert.ok(found.some((m) => /^no-restricted-imports: .*Only src\/extension\/ may import vscode/.test(m)), JSON.stringify(found));
});
