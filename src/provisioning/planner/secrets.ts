/**
 * App secrets (`secret("Name")`). Their values are typed in later, per environment, and never pass through the
 * graph. Production on AWS or GCP keeps each value in Secrets Manager or Secret Manager, as Encore does, and the
 * engine copies it into a Kubernetes Secret the pods read as environment variables (notes §1.3: "On K8s:
 * Kubernetes Secrets bound to per-service SAs"). Development and the kubernetes provider keep the value only in
 * the Kubernetes Secret, which then holds the one copy and is marked stateful.
 */

import type { Secret } from '../../model/appModel';
import type { PlanContext } from './context';
import { dnsLabel, envVar } from './names';

export function planSecrets(ctx: PlanContext): void {
  for (const secret of ctx.needs.secrets) planSecret(ctx, secret);
}

function planSecret(ctx: PlanContext, secret: Secret): void {
  const source = { kind: 'secret' as const, name: secret.name };
  const label = `${secret.name} secret`;
  let managedId: string | null = null;
  let store = '';
  if (ctx.production && ctx.env.provider.kind === 'aws') {
    managedId = `aws:secretsmanager:${secret.name}`;
    store = 'Secrets Manager';
    ctx.add({
      id: managedId,
      kind: 'secret',
      providerType: 'AWS::SecretsManager::Secret',
      name: `encore/${ctx.names.app}/${ctx.env.name}/${secret.name.replace(/[^A-Za-z0-9/_+=.@-]/g, '_')}`,
      source,
      settings: { valueSetBy: 'a person, after apply', recoveryWindowDays: 30 },
      stateful: true,
      summary: `${label} → Secrets Manager secret (value set later)`,
    });
  } else if (ctx.production && ctx.env.provider.kind === 'gcp') {
    managedId = `gcp:secret:${secret.name}`;
    store = 'Secret Manager';
    ctx.add({
      id: managedId,
      kind: 'secret',
      providerType: 'secretmanager.googleapis.com/Secret',
      name: ctx.names.cloud(secret.name, 255),
      source,
      settings: { project: ctx.env.provider.project, replication: 'automatic', valueSetBy: 'a person, after apply' },
      stateful: true,
      summary: `${label} → Secret Manager secret (value set later)`,
    });
  }
  const name = dnsLabel('encore-secret-', secret.name);
  const id = `k8s:secret:${name}`;
  ctx.add({
    id,
    kind: 'secret',
    providerType: 'k8s/v1/Secret',
    name,
    source,
    settings: { keys: { value: managedId ? { syncFrom: managedId } : { setBy: 'a person, after apply' } } },
    dependsOn: [...ctx.k8sBase, ...(managedId ? [managedId] : [])],
    stateful: managedId === null,
    summary: managedId ? `${label} → Kubernetes Secret ${name}, copied from ${store}` : `${label} → Kubernetes Secret ${name} (value set later)`,
  });
  const env = envVar('ENCORE_SECRET_', secret.name);
  const services = secret.services.filter((s) => ctx.needs.services.some((h) => h.name === s));
  ctx.secretEnv.push({ envVar: env, secretId: id, secretName: name, key: 'value', services });
  for (const s of services) ctx.need(s, id);
  ctx.config.secrets[secret.name] = { $env: env };
}
