/**
 * A live object read back in the vocabulary of `DesiredResource.settings` (providerApi.ts: `LiveObject.observed`),
 * so the engine can diff it against what was applied. Every setting the renderer writes into the object is read
 * from the object; settings that only describe (a summary's "backups: none", an HPA's "requires metrics-server")
 * have nothing live to compare with and are carried over from the settings given. Never holds a secret value:
 * a Secret's keys read back as the key specs, present or not, never as their values.
 */

import path from 'node:path';
import type { DesiredResource, JsonObject, JsonValue } from '../../../model/desiredGraph';
import type { KubeObject } from './client';
import { ANNOTATION, resourceNamespace, type RenderContext } from './manifests';
import { secretKeys } from './manifests/secrets';
import { parseQuantity, sameQuantity } from './quantity';

type Any = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- live objects are untyped JSON

/** `live` as the desired string when they are the same quantity, so `1024Mi` read back as `1Gi` is no change. */
function quantities(live: Any | undefined, desired: JsonValue | undefined): JsonObject {
  const out: JsonObject = {};
  const want = (desired ?? {}) as Any;
  for (const [group, values] of Object.entries(live ?? {})) {
    const g: JsonObject = {};
    for (const [k, v] of Object.entries(values as Record<string, string>)) {
      const d = want[group]?.[k];
      g[k] = typeof d === 'string' && sameQuantity(d, v) ? d : v;
    }
    out[group] = g;
  }
  return out;
}

function pick(values: Record<string, string> | undefined, keys: string[]): JsonObject {
  const out: JsonObject = {};
  for (const k of keys) if (values?.[k] !== undefined) out[k] = values[k];
  return out;
}

function gib(storage: string | undefined): number | null {
  const v = storage ? parseQuantity(storage) : null;
  return v === null ? null : Math.round((v / 2 ** 30) * 1000) / 1000;
}

function env(list: Any[] | undefined): JsonValue[] {
  return (list ?? []).map(
    (e): JsonValue =>
      e.valueFrom?.secretKeyRef ? { name: e.name, secretKeyRef: { name: e.valueFrom.secretKeyRef.name, key: e.valueFrom.secretKeyRef.key } } : { name: e.name, value: e.value ?? '' },
  );
}

function envValue(list: Any[] | undefined, name: string): string | undefined {
  return (list ?? []).find((e) => e.name === name)?.value;
}

export function observe(r: DesiredResource, live: KubeObject, ctx: RenderContext): JsonObject {
  const s = r.settings;
  const o = live as Any;
  switch (r.providerType) {
    case 'k8s/v1/Namespace':
      return { ...s, labels: pick(o.metadata.labels, Object.keys((s.labels ?? {}) as JsonObject)) };
    case 'k8s/v1/PersistentVolumeClaim':
      return {
        ...s,
        storageGiB: gib(o.spec?.resources?.requests?.storage),
        accessModes: o.spec?.accessModes ?? [],
        // No class asked for means "the cluster's default", which the server fills in: not a difference.
        storageClassName: s.storageClassName === null ? null : (o.spec?.storageClassName ?? null),
      };
    case 'k8s/v1/Service':
      return {
        ...s,
        type: o.spec?.type,
        ...('clusterIP' in s ? { clusterIP: o.spec?.clusterIP === 'None' ? 'None' : (o.spec?.clusterIP ?? null) } : {}),
        ports: (o.spec?.ports ?? []).map((p: Any) => ({ port: p.port, targetPort: p.targetPort })),
        selector: o.spec?.selector ?? {},
      };
    case 'k8s/v1/ServiceAccount':
      return { ...s, annotations: pick(o.metadata.annotations, Object.keys((s.annotations ?? {}) as JsonObject)) };
    case 'k8s/v1/Secret': {
      const data = (o.data ?? {}) as Record<string, string>;
      const keys: JsonObject = {};
      const specs = (s.keys ?? {}) as JsonObject;
      for (const [key, source] of Object.entries(secretKeys(r, { requireResolved: false }))) {
        // A value we write is "there" when the key is; a value others set is not ours to compare.
        if (source.kind === 'external' || key in data) keys[key] = specs[key] as JsonValue;
      }
      return { ...s, keys };
    }
    case 'k8s/v1/ConfigMap': {
      const text = Buffer.from(((o.data ?? {}) as Record<string, string>)[String(s.key)] ?? '', 'base64').toString('utf8');
      let document: JsonValue;
      try {
        document = JSON.parse(text) as JsonValue;
      } catch {
        document = text; // changed by hand into something that is not JSON: show it as it is
      }
      return { ...s, document };
    }
    case 'k8s/apps/v1/StatefulSet': {
      const c = o.spec?.template?.spec?.containers?.[0] ?? {};
      const claim = o.spec?.volumeClaimTemplates?.[0];
      const secret = (c.env ?? []).find((e: Any) => e.valueFrom?.secretKeyRef)?.valueFrom.secretKeyRef.name ?? null;
      return {
        ...s,
        image: c.image,
        replicas: o.spec?.replicas,
        serviceName: o.spec?.serviceName,
        port: c.ports?.[0]?.containerPort,
        ports: (c.ports ?? []).map((p: Any) => ({ name: p.name, port: p.containerPort })),
        args: c.args ?? [],
        resources: quantities(c.resources, s.resources),
        volumeClaimTemplate: { ...((s.volumeClaimTemplate ?? {}) as JsonObject), name: claim?.metadata?.name, storageGiB: gib(claim?.spec?.resources?.requests?.storage) },
        credentialsSecret: secret,
        ...('database' in s ? { database: envValue(c.env, 'POSTGRES_DB') ?? null, user: envValue(c.env, 'POSTGRES_USER') ?? null } : {}),
        ...('rootUser' in s ? { rootUser: envValue(c.env, 'MINIO_ROOT_USER') ?? null } : {}),
      };
    }
    case 'k8s/apps/v1/Deployment': {
      if (s.addon !== undefined) return observeAddon(s, o);
      const spec = o.spec?.template?.spec ?? {};
      const c = spec.containers?.[0] ?? {};
      const volume = (spec.volumes ?? []).find((v: Any) => v.name === 'infra-config');
      const mount = (c.volumeMounts ?? []).find((m: Any) => m.name === 'infra-config');
      const ru = o.spec?.strategy?.rollingUpdate ?? {};
      return {
        ...s,
        // In Production the HPA owns the count (the renderer does not write it), so it is not compared.
        replicas: ctx.production ? s.replicas : (o.spec?.replicas ?? null),
        image: c.image ?? null,
        port: c.ports?.[0]?.containerPort,
        serviceAccountName: spec.serviceAccountName,
        resources: quantities(c.resources, s.resources),
        env: env(c.env),
        infraConfig: {
          configMap: volume?.secret?.secretName ?? null,
          key: volume?.secret?.items?.[0]?.key ?? null,
          mountPath: mount && volume ? path.posix.join(mount.mountPath, volume.secret?.items?.[0]?.path ?? '') : null,
        },
        // The placeholder image gets no probe (it cannot answer), so there is nothing live to compare.
        readinessProbe: c.readinessProbe ? { httpGet: c.readinessProbe.httpGet?.path, port: c.readinessProbe.httpGet?.port } : s.readinessProbe,
        strategy: { type: o.spec?.strategy?.type, maxUnavailable: ru.maxUnavailable, maxSurge: ru.maxSurge },
        hostedServices: splitList(o.metadata.annotations?.[ANNOTATION.hostedServices]),
        hostedGateways: splitList(o.metadata.annotations?.[ANNOTATION.hostedGateways]),
      };
    }
    case 'k8s/autoscaling/v2/HorizontalPodAutoscaler':
      return {
        ...s,
        minReplicas: o.spec?.minReplicas,
        maxReplicas: o.spec?.maxReplicas,
        targetCPUUtilizationPercent: o.spec?.metrics?.[0]?.resource?.target?.averageUtilization ?? null,
      };
    case 'k8s/batch/v1/CronJob': {
      const c = o.spec?.jobTemplate?.spec?.template?.spec?.containers?.[0] ?? {};
      const multiple = envValue(c.env, 'ONLY_AT_MINUTE_OF_DAY_MULTIPLE_OF');
      return {
        ...s,
        schedule: o.spec?.schedule,
        timeZone: o.spec?.timeZone ?? null,
        concurrencyPolicy: o.spec?.concurrencyPolicy,
        image: c.image,
        runOnlyAtMinuteOfDayMultipleOf: multiple ? Number(multiple) : null,
        request: { ...((s.request ?? {}) as JsonObject), method: envValue(c.env, 'METHOD') ?? null, url: envValue(c.env, 'URL') ?? null },
      };
    }
    case 'k8s/rbac.authorization.k8s.io/v1/Role':
    case 'k8s/rbac.authorization.k8s.io/v1/ClusterRole':
      // The rules as the planner writes them (the server keeps them as given, with no defaults to tell apart).
      return { ...s, rules: (o.rules ?? []).map((r: Any) => ({ apiGroups: r.apiGroups ?? [], resources: r.resources ?? [], verbs: r.verbs ?? [], ...(r.resourceNames ? { resourceNames: r.resourceNames } : {}) })) };
    case 'k8s/rbac.authorization.k8s.io/v1/RoleBinding': {
      const subjects = (o.subjects ?? []) as Any[];
      const namespace = resourceNamespace(r, ctx.namespace);
      const only = subjects.length === 1 && subjects[0]?.kind === 'ServiceAccount' && subjects[0]?.namespace === namespace ? subjects[0].name : null;
      const user = subjects.length === 1 && subjects[0]?.kind === 'User' ? subjects[0].name : null;
      return { ...s, role: o.roleRef?.kind === 'Role' ? (o.roleRef?.name ?? null) : null, ...('user' in s ? { user } : { serviceAccount: only }) };
    }
    case 'k8s/rbac.authorization.k8s.io/v1/ClusterRoleBinding': {
      const subjects = (o.subjects ?? []) as Any[];
      const only = subjects.length === 1 && subjects[0]?.kind === 'ServiceAccount' ? subjects[0] : null;
      return {
        ...s,
        clusterRole: o.roleRef?.kind === 'ClusterRole' ? (o.roleRef?.name ?? null) : null,
        serviceAccount: only?.name ?? null,
        serviceAccountNamespace: only?.namespace ?? null,
      };
    }
    default: {
      // A Job-made object (database, topic, channel, bucket): the settings its latest Job was made from.
      const recorded = o.metadata.annotations?.[ANNOTATION.settings];
      try {
        return recorded ? (JSON.parse(recorded) as JsonObject) : {};
      } catch {
        return {};
      }
    }
  }
}

/** A cluster add-on's Deployment (manifests/addons.ts), in the settings it was rendered from. */
function observeAddon(s: JsonObject, o: Any): JsonObject {
  const spec = o.spec?.template?.spec ?? {};
  const c = spec.containers?.[0] ?? {};
  return {
    ...s,
    image: c.image ?? null,
    replicas: o.spec?.replicas ?? null,
    serviceAccountName: spec.serviceAccountName ?? null,
    command: c.command ?? [],
    env: env(c.env),
    port: c.ports?.[0]?.containerPort ?? null,
    resources: quantities(c.resources, s.resources),
    priorityClassName: spec.priorityClassName ?? null,
  };
}

function splitList(text: string | undefined): string[] {
  return text ? text.split(',').filter(Boolean) : [];
}
