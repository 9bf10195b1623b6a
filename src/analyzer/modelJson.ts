// The stable JSON form of an AppModel printed by `encore-env analyze --json` (documented in the README): fixed key
// order, sorted lists, paths relative to the app root, and positions 1-based as editors show them.
import path from 'node:path';
import type { AppModel, Diagnostic } from '../model/appModel';
import { compareText } from './compareText';

export function modelJson(model: AppModel) {
  const rel = (file: string) => path.relative(model.root, file).split(path.sep).join('/');
  return {
    services: model.services.map((s) => ({ name: s.name, root: s.root })),
    endpoints: model.endpoints.map((e) => ({ service: e.service, name: e.name, kind: e.kind, methods: e.methods, path: e.path, access: e.access })),
    databases: model.databases.map((d) => ({ name: d.name, migrations: d.migrations.map((m) => m.filename), usedBy: d.usedBy })),
    topics: model.topics.map((t) => ({ name: t.name, deliveryGuarantee: t.deliveryGuarantee, orderingAttribute: t.orderingAttribute, publishers: t.publishers })),
    subscriptions: model.subscriptions.map((s) => ({ topic: s.topic, name: s.name, service: s.service })),
    cronJobs: model.cronJobs.map((c) => ({
      name: c.name,
      title: c.title,
      schedule: c.schedule,
      endpoint: c.endpoint ? `${c.endpoint.service}.${c.endpoint.name}` : null,
    })),
    caches: model.caches.map((c) => ({
      name: c.name,
      evictionPolicy: c.evictionPolicy,
      keyspaces: c.keyspaces.map((k) => ({ keyPattern: k.keyPattern, service: k.service })).sort((a, b) => compareText(a.keyPattern, b.keyPattern)),
    })),
    buckets: model.buckets.map((b) => ({
      name: b.name,
      public: b.public,
      versioned: b.versioned,
      // Keyed by service name, so null-prototype (see model/reservedNames).
      usage: Object.assign(Object.create(null) as typeof b.usage, Object.fromEntries(Object.entries(b.usage).sort(([x], [y]) => compareText(x, y)))),
    })),
    secrets: model.secrets.map((s) => ({ name: s.name, services: s.services })),
    gateway: model.gateway ? { name: model.gateway.name, service: model.gateway.service, authHandler: model.gateway.authHandler } : null,
    authHandler: model.authHandler ? { name: model.authHandler.name, service: model.authHandler.service } : null,
    metrics: model.metrics.map((m) => ({ name: m.name, kind: m.kind, services: m.services })),
    diagnostics: model.diagnostics.map((d) => diagnosticJson(d, rel)),
  };
}

function diagnosticJson(d: Diagnostic, rel: (file: string) => string) {
  return {
    file: rel(d.file),
    line: d.range.start.line + 1,
    column: d.range.start.character + 1,
    endLine: d.range.end.line + 1,
    endColumn: d.range.end.character + 1,
    severity: d.severity,
    message: d.message,
  };
}
