/**
 * A cluster add-on's Deployment (the cluster autoscaler, planner/autoscaler.ts): one system pod that talks to the
 * Kubernetes API with its ServiceAccount's token and to the cloud with its IRSA role. Hardened as the upstream
 * chart runs it: non-root, read-only root filesystem, no capabilities, its health check as the liveness probe.
 */

import type { DesiredResource } from '../../../../model/desiredGraph';
import type { KubeObject } from '../client';
import { ANNOTATION, LABEL, meta, num, obj, optStr, podLabels, str, strList, type RenderContext } from './common';
import { containerEnv } from './workloads';

export function renderAddonDeployment(r: DesiredResource, ctx: RenderContext): KubeObject {
  const s = r.settings;
  const image = str(s, 'image', r.id);
  const port = num(s, 'port', r.id);
  const priorityClassName = optStr(s, 'priorityClassName', r.id);
  const command = strList(s, 'command', r.id);
  if (command.length === 0) throw new Error(`${r.id}: an add-on Deployment needs a command`);
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta(r, ctx, { labels: { [LABEL.name]: r.name, [LABEL.component]: str(s, 'addon', r.id) }, annotations: { [ANNOTATION.image]: image } }),
    spec: {
      replicas: num(s, 'replicas', r.id),
      selector: { matchLabels: { [LABEL.name]: r.name } },
      template: {
        metadata: {
          labels: podLabels(r, ctx, r.name),
          // Its own node must not be removed from under it while it scales down.
          annotations: { [ANNOTATION.resourceId]: r.id, 'cluster-autoscaler.kubernetes.io/safe-to-evict': 'false' },
        },
        spec: {
          serviceAccountName: str(s, 'serviceAccountName', r.id),
          ...(priorityClassName ? { priorityClassName } : {}),
          securityContext: { runAsNonRoot: true, runAsUser: 65534, runAsGroup: 65534, fsGroup: 65534, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: r.name,
              image,
              command,
              env: containerEnv(s.env, r.id),
              ports: [{ name: 'http', containerPort: port, protocol: 'TCP' }],
              livenessProbe: { httpGet: { path: '/health-check', port }, periodSeconds: 10 },
              resources: obj(s, 'resources', r.id),
              securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
            },
          ],
        },
      },
    },
  };
}
