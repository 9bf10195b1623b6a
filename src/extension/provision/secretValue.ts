// Set Secret Value…: the value of one of the app's secrets (`secret("Name")`) in an environment, typed into a
// password box and sent to the provider only (src/provisioning/appSecrets.ts). From the palette it asks for the
// environment and the secret (each listed with whether its value is set); from the tree's secret node, for the value
// alone. The log says which secret was set, never the value.
import * as vscode from 'vscode';
import type { DesiredResource } from '../../model/desiredGraph';
import { checkSecretValue, type EnvironmentSession, type SecretValueStatus } from '../../session';
import { log } from '../log';
import { abortOn } from './abortOn';
import type { ProvisionServices } from './provisionCommands';
import { chooseTarget, openSession, type Target } from './target';

const STATUS_TEXT: Record<SecretValueStatus, string> = { set: 'value set', unset: 'no value yet', missing: 'not provisioned: apply the environment first' };

/** `node` is the tree's resource node, an environment node, or nothing (the palette). */
export async function runSetSecretValue(s: ProvisionServices, node: unknown): Promise<void> {
  const fromTree = resourceNode(node);
  const t = fromTree ? await targetOf(s, fromTree.root, fromTree.envName) : await chooseTarget(s.apps, node, 'Set Secret Value');
  if (!t) return;
  const session = await openSession(s.apps, s.models, t);
  try {
    await setOne(session, t, fromTree?.resource.source?.name);
  } finally {
    await session.dispose();
  }
}

async function setOne(session: EnvironmentSession, t: Target, chosen: string | undefined): Promise<void> {
  // The app's errors are said before anything is asked.
  await session.graph();
  const opened = await session.provider();
  let name = chosen;
  if (!name) {
    const statuses = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Encore: reading the secrets of "${t.env.name}"`, cancellable: true },
      (_p, token) => session.secretStatuses(abortOn(token)),
    );
    if (statuses.length === 0) {
      void vscode.window.showInformationMessage('Encore: the app declares no secrets (secret("Name") from encore.dev/config).');
      return;
    }
    const picked = await vscode.window.showQuickPick(
      statuses.map(({ secret, status }) => ({ label: secret.name, description: STATUS_TEXT[status], detail: secret.services.length ? `read by ${secret.services.join(', ')}` : undefined, name: secret.name })),
      { title: `Set a secret value in "${t.env.name}"`, placeHolder: 'Choose the secret' },
    );
    name = picked?.name;
  }
  if (!name) return;
  const value = await vscode.window.showInputBox({
    title: `${name} in "${t.env.name}"`,
    prompt: `The value is stored in ${opened.driver.target} only: never in the environments file, the state or a log.`,
    password: true,
    ignoreFocusOut: true,
    validateInput: (v) => checkSecretValue(v) ?? undefined,
  });
  if (value === undefined) return;
  const secretName = name;
  const stored = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Encore: storing ${secretName} in "${t.env.name}"`, cancellable: true },
    (_p, token) => session.setSecretValue(secretName, value, abortOn(token)),
  );
  log().info(`set the value of secret ${secretName} in "${t.env.name}" (${opened.driver.target})`);
  const readers = stored.services.length ? ` ${stored.services.join(', ')} read${stored.services.length === 1 ? 's' : ''} it when ${stored.services.length === 1 ? 'its pods start' : 'their pods start'}.` : '';
  void vscode.window.showInformationMessage(`Encore: stored the value of ${secretName} in "${t.env.name}".${readers}`);
}

interface ResourceNode {
  root: string;
  envName: string;
  resource: DesiredResource;
}

function resourceNode(node: unknown): ResourceNode | undefined {
  const n = node as Partial<ResourceNode> & { kind?: string } | undefined;
  return n?.kind === 'resource' && n.root && n.envName && n.resource ? (n as ResourceNode) : undefined;
}

async function targetOf(s: ProvisionServices, root: string, envName: string): Promise<Target | undefined> {
  const app = (await s.apps.list()).find((a) => a.found.root === root);
  const env = app?.environments.ok ? app.environments.environments.find((e) => e.name === envName) : undefined;
  if (!env) throw new Error(`environment "${envName}" is no longer in the environments file`);
  return { root, env };
}
