/**
 * The app's workloads: per Encore service a ServiceAccount, a Deployment, a Service and, in Production, an HPA
 * (notes §1.5: a Deployment, Service and ServiceAccount per service). The API gateway runs as its own Deployment
 * (`encore-gateway`, Encore's `--gateways` split), since every app has one and it should not share a pod with
 * whichever service declares it. On AWS and GCP each service that touches a cloud resource gets its own identity
 * (an IAM role through IRSA, a GCP service account through Workload Identity) with only the permissions its usage
 * needs, as Encore derives least privilege from the app (notes §1.3).
 */

import { outputRef, type JsonObject, type JsonValue } from '../../model/desiredGraph';
import { DEVELOPMENT_SIZES, productionDefaults, type ServiceScale } from './sizing';
import type { PlanContext } from './context';
import { GATEWAY_WORKLOAD, INFRA_CONFIG, PLACEHOLDER_IMAGE, PORT, SERVICE_AUTH, serviceAuthKey } from './constants';
import { dnsLabel } from './names';
import { own } from '../../model/records';

/**
 * Pod requests: small enough that four fit a 2 vCPU / 8 GiB node next to the system pods (cluster.ts). Development
 * requests little CPU (no limit, so a pod can still use more): a whole Development environment must be schedulable
 * on a 2-CPU kind or minikube node, the defaults of both.
 */
const POD_RESOURCES = {
  production: { requests: { cpu: '250m', memory: '512Mi' }, limits: { memory: '1Gi' } },
  development: { requests: { cpu: '50m', memory: '256Mi' }, limits: { memory: '512Mi' } },
};

export const GATEWAY = {
  workload: GATEWAY_WORKLOAD,
  /** Not asked: the gateway scales like a service with the default answers. */
  scale: (ctx: PlanContext): ServiceScale => (ctx.production ? productionDefaults(ctx.provider).service : DEVELOPMENT_SIZES.service),
};

/** The Kubernetes name of a service's workload. */
export function workloadName(service: string): string {
  return dnsLabel('', service);
}

/** The key private endpoints use to trust calls from other services (infra config `auth`), generated at apply. */
export function planServiceAuth(ctx: PlanContext): void {
  const ids = ctx.serviceAuthKeyIds;
  ctx.add({
    id: SERVICE_AUTH.id,
    kind: 'secret',
    providerType: 'k8s/v1/Secret',
    name: SERVICE_AUTH.name,
    settings: { keys: Object.fromEntries(ids.map((id) => [serviceAuthKey(id).key, { generate: 'password', length: 64 }])) },
    dependsOn: ctx.k8sBase,
    summary: `service-to-service auth → Secret ${SERVICE_AUTH.name} (${ids.length === 1 ? `generated key ${ids[0]}` : `generated keys ${ids.join(' and ')}: a rotation is in progress`})`,
  });
  for (const id of ids) {
    const { key, envVar } = serviceAuthKey(id);
    ctx.secretEnv.push({ envVar, secretId: SERVICE_AUTH.id, secretName: SERVICE_AUTH.name, key, services: 'all' });
  }
}

export function planWorkloads(ctx: PlanContext): void {
  if (ctx.needs.services.length === 0) return;
  for (const service of ctx.needs.services) {
    const scale = own(ctx.sizing.services, service.name)!;
    planWorkload(ctx, { label: `${service.name} service`, encoreName: service.name, workload: workloadName(service.name), scale, gateway: false });
  }
  planWorkload(ctx, { label: 'api-gateway', encoreName: 'api-gateway', workload: GATEWAY.workload, scale: GATEWAY.scale(ctx), gateway: true });
}

interface Workload {
  label: string;
  encoreName: string;
  workload: string;
  scale: ServiceScale;
  gateway: boolean;
}

function planWorkload(ctx: PlanContext, w: Workload): void {
  const source = w.gateway ? { kind: 'gateway' as const, name: 'api-gateway' } : { kind: 'service' as const, name: w.encoreName };
  const identity = w.gateway ? null : planIdentity(ctx, w);
  const saId = `k8s:serviceaccount:${w.workload}`;
  ctx.add({
    id: saId,
    kind: 'serviceAccount',
    providerType: 'k8s/v1/ServiceAccount',
    name: w.workload,
    source,
    settings: { annotations: identity ? identity.annotations : {} },
    dependsOn: [...ctx.k8sBase, ...(identity ? [identity.id] : [])],
    summary: `${w.label} → ServiceAccount ${w.workload}${identity ? `, ${identity.what}` : ''}`,
  });
  // Only the gateway is reachable from outside: a cloud load balancer on EKS and GKE. On a given cluster, how it is
  // exposed (ingress, load balancer, port-forward) is the cluster owner's choice, so it stays cluster-internal.
  const external = w.gateway && ctx.provider !== 'kubernetes';
  const serviceId = `k8s:service:${w.workload}`;
  ctx.add({
    id: serviceId,
    kind: 'service',
    providerType: 'k8s/v1/Service',
    name: w.workload,
    source,
    settings: { type: external ? 'LoadBalancer' : 'ClusterIP', ports: [{ port: external ? 80 : PORT, targetPort: PORT }], selector: { 'app.kubernetes.io/name': w.workload } },
    dependsOn: ctx.k8sBase,
    summary: `${w.label} → ${external ? 'LoadBalancer' : 'ClusterIP'} Service ${w.workload}:${external ? 80 : PORT}`,
  });
  const secretEnv = ctx.secretEnv.filter((e) => e.services === 'all' || (!w.gateway && e.services.includes(w.encoreName)));
  const env: JsonValue[] = [
    { name: 'ENCORE_INFRA_CONFIG_PATH', value: INFRA_CONFIG.path },
    ...secretEnv.map((e) => ({ name: e.envVar, secretKeyRef: { name: e.secretName, key: e.key } })),
  ];
  const deploymentId = `k8s:deployment:${w.workload}`;
  const replicas = ctx.production ? w.scale.minInstances : 1;
  ctx.add({
    id: deploymentId,
    kind: 'deployment',
    providerType: 'k8s/apps/v1/Deployment',
    name: w.workload,
    source,
    settings: {
      hostedServices: w.gateway ? [] : [w.encoreName],
      hostedGateways: w.gateway ? ['api-gateway'] : [],
      replicas,
      // The app's image (one for every service, as Encore builds it) once a deploy chose it; until then a placeholder
      // that runs and serves nothing.
      image: ctx.appImage ?? ctx.image(PLACEHOLDER_IMAGE),
      placeholder: ctx.appImage === null,
      port: PORT,
      serviceAccountName: w.workload,
      resources: ctx.production ? POD_RESOURCES.production : POD_RESOURCES.development,
      env,
      infraConfig: { configMap: INFRA_CONFIG.name, key: INFRA_CONFIG.key, mountPath: INFRA_CONFIG.path },
      readinessProbe: { httpGet: '/__encore/healthz', port: PORT },
      strategy: { type: 'RollingUpdate', maxUnavailable: 0, maxSurge: 1 },
    },
    dependsOn: [...ctx.k8sBase, saId, INFRA_CONFIG.id, ...secretEnv.map((e) => e.secretId), ...(ctx.serviceNeeds.get(w.encoreName) ?? [])],
    summary: ctx.production ? `${w.label} → Deployment, ${w.scale.minInstances}–${w.scale.maxInstances} instances` : `${w.label} → Deployment, 1 instance`,
  });
  if (ctx.production) {
    ctx.add({
      id: `k8s:hpa:${w.workload}`,
      kind: 'hpa',
      providerType: 'k8s/autoscaling/v2/HorizontalPodAutoscaler',
      name: w.workload,
      source,
      settings: {
        target: deploymentId,
        minReplicas: w.scale.minInstances,
        maxReplicas: w.scale.maxInstances,
        targetCPUUtilizationPercent: 70,
        // EKS and GKE come with (or get from the driver) a metrics pipeline; a given cluster must have metrics-server.
        requires: ctx.provider === 'kubernetes' ? 'metrics-server in the cluster' : null,
      },
      dependsOn: [deploymentId],
      summary: `${w.label} → HPA ${w.scale.minInstances}–${w.scale.maxInstances} instances at 70% CPU`,
    });
  }
}

/** The cloud identity of a service that uses cloud resources, or null when it needs none (or on kubernetes). */
function planIdentity(ctx: PlanContext, w: Workload): { id: string; annotations: JsonObject; what: string } | null {
  const grants = ctx.grants.get(w.encoreName) ?? [];
  if (grants.length === 0 || ctx.provider === 'kubernetes') return null;
  const resources = [...new Set(grants.map((g) => g.resource))];
  const count = `access to ${resources.length} resource${resources.length === 1 ? '' : 's'}`;
  if (ctx.provider === 'aws') {
    const id = `aws:iam-role:${w.encoreName}`;
    ctx.add({
      id,
      kind: 'iamRole',
      providerType: 'AWS::IAM::Role',
      name: ctx.names.cloud(`svc-${w.encoreName}`, 64),
      source: { kind: 'service', name: w.encoreName },
      settings: {
        trust: {
          irsa: {
            cluster: 'aws:eks', namespace: ctx.names.namespace, serviceAccount: w.workload,
            oidcProviderArn: outputRef('aws:eks', 'oidcProviderArn'), oidcIssuer: outputRef('aws:eks', 'oidcIssuer'),
          },
        },
        statements: grants.map((g) => ({ actions: g.permissions, resource: g.resource, resourceArn: outputRef(g.resource, 'arn') })),
      },
      dependsOn: ['aws:eks', ...resources],
      summary: `${w.label} → IAM role (IRSA), ${count}`,
    });
    return { id, annotations: { 'eks.amazonaws.com/role-arn': outputRef(id, 'arn') }, what: 'IAM role via IRSA' };
  }
  if (ctx.env.provider.kind !== 'gcp') return null;
  const project = ctx.env.provider.project;
  const id = `gcp:service-account:${w.encoreName}`;
  ctx.add({
    id,
    kind: 'iamRole',
    providerType: 'iam.googleapis.com/ServiceAccount',
    // GCP service account ids are 6–30 characters.
    name: dnsLabel('svc-', `${ctx.env.name}-${w.encoreName}`, 30),
    source: { kind: 'service', name: w.encoreName },
    settings: {
      project,
      // An existing cluster's pool is what it reports (clusters.get); a cluster of the environment's gets the project's.
      workloadIdentityUser: `${ctx.existingCluster ? outputRef('gcp:gke', 'workloadIdentityPool') : `${project}.svc.id.goog`}[${ctx.names.namespace}/${w.workload}]`,
      bindings: grants.map((g) => ({ roles: g.permissions, resource: g.resource })),
    },
    dependsOn: ['gcp:gke', ...resources],
    summary: `${w.label} → GCP service account (Workload Identity), ${count}`,
  });
  return { id, annotations: { 'iam.gke.io/gcp-service-account': outputRef(id, 'email') }, what: 'GCP service account via Workload Identity' };
}
