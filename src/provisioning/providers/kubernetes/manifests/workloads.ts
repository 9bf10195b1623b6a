/**
 * An Encore service's (or the API gateway's) Deployment (planner/workloads.ts). The image is the planner's (the
 * app's image a deploy chose, or a placeholder that is labelled as such: it runs and serves nothing, and gets no
 * readiness probe, since it cannot answer Encore's health check).
 */

import path from 'node:path';
import type { DesiredResource, JsonObject, JsonValue } from '../../../../model/desiredGraph';
import type { KubeObject } from '../client';
import { ANNOTATION, LABEL, meta, num, obj, podLabels, str, strList, type EnvVar, type RenderContext } from './common';

/** The planner's env entries (`{name, value}` or `{name, secretKeyRef}`) as container env vars. */
export function containerEnv(list: JsonValue | undefined, id: string): EnvVar[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new Error(`${id}: setting "env" must be a list`);
  return list.map((e) => {
    const entry = e as { name?: string; value?: string; secretKeyRef?: { name: string; key: string } };
    if (!entry.name) throw new Error(`${id}: an env entry has no name`);
    if (entry.secretKeyRef) return { name: entry.name, valueFrom: { secretKeyRef: { name: entry.secretKeyRef.name, key: entry.secretKeyRef.key } } };
    return { name: entry.name, value: String(entry.value ?? '') };
  });
}

export function renderDeployment(r: DesiredResource, ctx: RenderContext): KubeObject {
  const s = r.settings;
  const image = str(s, 'image', r.id);
  const placeholder = s.placeholder === true;
  const port = num(s, 'port', r.id);
  const infra = obj(s, 'infraConfig', r.id);
  const mountPath = str(infra, 'mountPath', r.id);
  const probe = obj(s, 'readinessProbe', r.id);
  const strategy = obj(s, 'strategy', r.id);
  const hosted = strList(s, 'hostedServices', r.id);
  const gateways = strList(s, 'hostedGateways', r.id);
  const labels = podLabels(r, ctx, r.name);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(r, ctx, {
      labels: { [LABEL.name]: r.name, [LABEL.component]: gateways.length > 0 ? 'gateway' : 'service' },
      annotations: {
        [ANNOTATION.image]: placeholder ? 'placeholder: no app image deployed yet' : image,
        ...(hosted.length > 0 ? { [ANNOTATION.hostedServices]: hosted.join(',') } : {}),
        ...(gateways.length > 0 ? { [ANNOTATION.hostedGateways]: gateways.join(',') } : {}),
      },
    }),
    spec: {
      // In Production the HPA owns the replica count: applying one here would undo its scaling on every apply.
      ...(ctx.production ? {} : { replicas: num(s, 'replicas', r.id) }),
      selector: { matchLabels: { [LABEL.name]: r.name } },
      strategy: { type: str(strategy, 'type', r.id), rollingUpdate: { maxUnavailable: strategy.maxUnavailable, maxSurge: strategy.maxSurge } },
      template: {
        metadata: {
          labels,
          annotations: {
            [ANNOTATION.resourceId]: r.id,
            ...(ctx.infraConfigHash ? { [ANNOTATION.infraConfigHash]: ctx.infraConfigHash } : {}),
          },
        },
        spec: {
          serviceAccountName: str(s, 'serviceAccountName', r.id),
          automountServiceAccountToken: false,
          containers: [
            {
              name: 'app',
              image,
              ports: [{ name: 'http', containerPort: port, protocol: 'TCP' }],
              env: containerEnv(s.env, r.id),
              resources: obj(s, 'resources', r.id),
              ...(placeholder ? {} : { readinessProbe: { httpGet: { path: str(probe, 'httpGet', r.id), port: num(probe, 'port', r.id) }, periodSeconds: 5 } }),
              volumeMounts: [{ name: 'infra-config', mountPath: path.posix.dirname(mountPath), readOnly: true }],
            },
          ],
          // The config Secret (secrets.ts) mounted as a folder, not with subPath, so the file follows its updates.
          volumes: [{ name: 'infra-config', secret: { secretName: str(infra, 'configMap', r.id), items: [{ key: str(infra, 'key', r.id), path: path.posix.basename(mountPath) }] } }],
        },
      },
    },
  };
}

export type { JsonObject };
