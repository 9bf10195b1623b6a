// Cloud SQL Admin (sqladmin.googleapis.com v1) over REST, with the routes of @google-cloud/sql's protos (its REST
// fallback is what the provider uses): PostgreSQL instances inserted, read, patched and deleted through Cloud SQL's
// own Operation type (PENDING → RUNNING → DONE after N polls), databases and users. It checks the settings the
// provider must get right (tier format, HA needing backups, PITR's log retention below the retained backups, private
// IP, deletion protection refusing a delete) and records a delete's final-backup parameters. One operation per
// instance at a time, as Cloud SQL allows. Everything else is 501 UNIMPLEMENTED.
import { randomUUID } from 'node:crypto';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { alreadyExists, FakeError, invalidArgument, notFound } from '../googleErrors';
import type { Message } from '../grpcFake';
import { RestFake, type RestFakeOptions } from '../restFake';

const SERVICES = ['SqlInstancesService', 'SqlDatabasesService', 'SqlUsersService', 'SqlOperationsService'].map((s) => `google.cloud.sql.v1.${s}`);

export interface CloudSqlFakeOptions {
  /** What a RUNNABLE instance reports as its private address; loopback by default so nothing connects elsewhere. */
  privateIp?: string;
  /** The server CA certificate (PEM) instances report. */
  serverCaPem?: string;
  authorize?: RestFakeOptions['authorize'];
}

interface StoredInstance {
  instance: Message;
  rootPassword?: string;
  databases: Map<string, Message>;
  users: Map<string, { user: Message; password?: string }>;
}

interface SqlOperation {
  op: Message;
  polls: number;
  seen: number;
  started: number;
  deadlineMs?: number;
  instance: string;
  finish: () => FakeError | undefined;
}

/** db-custom-{vCPUs}-{MB}: 1 or an even number of vCPUs up to 96, 0.9 to 6.5 GB per vCPU, a multiple of 256 MB, at least 3.75 GB. */
export function checkTier(tier: unknown): void {
  const text = String(tier ?? '');
  if (/^db-(f1-micro|g1-small)$/.test(text) || /^db-perf-optimized-N-\d+$/.test(text)) return;
  const match = /^db-custom-(\d+)-(\d+)$/.exec(text);
  if (!match) throw invalidArgument(`Invalid request: Invalid tier (${text}). Use db-custom-{vCPUs}-{memory MB}, db-perf-optimized-N-{vCPUs} or a shared-core tier.`);
  const [cpus, mb] = [Number(match[1]), Number(match[2])];
  if (!(cpus === 1 || (cpus % 2 === 0 && cpus <= 96))) throw invalidArgument(`Invalid request: Invalid tier (${text}): the number of vCPUs must be 1 or an even number up to 96.`);
  if (mb % 256 !== 0 || mb < 3840 || mb < 921.6 * cpus || mb > 6656 * cpus) {
    throw invalidArgument(`Invalid request: Invalid tier (${text}): memory must be a multiple of 256 MB, at least 3840 MB, and between 0.9 and 6.5 GB per vCPU.`);
  }
}

export class CloudSqlFake extends RestFake {
  readonly instances = new Map<string, StoredInstance>();
  private readonly operations = new Map<string, SqlOperation>();
  private readonly busy = new Map<string, string>();

  constructor(private readonly sqlOptions: CloudSqlFakeOptions = {}) {
    super({
      name: 'Cloud SQL Admin fake',
      api: { service: 'sqladmin.googleapis.com', title: 'Cloud SQL Admin API' },
      protos: { from: '@google-cloud/sql', services: SERVICES },
      authorize: sqlOptions.authorize,
      handlers: {
        'SqlInstancesService.Insert': (req) => this.insert(req),
        'SqlInstancesService.Get': (req) => this.publicInstance(this.stored(req.project, req.instance).instance),
        'SqlInstancesService.Patch': (req) => this.patch(req),
        'SqlInstancesService.Delete': (req) => this.delete(req),
        'SqlDatabasesService.Insert': (req) => this.insertDatabase(req),
        'SqlDatabasesService.Get': (req) => this.database(req),
        'SqlDatabasesService.Delete': (req) => this.deleteDatabase(req),
        'SqlUsersService.Insert': (req) => this.insertUser(req),
        'SqlUsersService.Get': (req) => this.user(req).user,
        'SqlUsersService.Update': (req) => this.updateUser(req),
        'SqlUsersService.Delete': (req) => this.deleteUser(req),
        'SqlOperationsService.Get': (req) => this.getOperation(req),
      },
    });
  }

  /** Client options for @google-cloud/sql's clients: the REST fallback over plain HTTP to this fake. */
  clientOptions<A>(authClient: A): { fallback: true; apiEndpoint: string; port: number; protocol: 'http'; authClient: A } {
    return { fallback: true, apiEndpoint: '127.0.0.1', port: this.port, protocol: 'http', authClient };
  }

  /** The password a test reads back to check what the provider set (never part of any API answer). */
  passwordOf(project: string, instance: string, user: string): string | undefined {
    return this.stored(project, instance).users.get(user)?.password;
  }

  private key(project: unknown, instance: unknown): string {
    return `${String(project)}/${String(instance)}`;
  }

  private stored(project: unknown, instance: unknown): StoredInstance {
    const found = this.instances.get(this.key(project, instance));
    if (!found) throw notFound(`The Cloud SQL instance does not exist (${String(project)}:${String(instance)})`);
    return found;
  }

  private publicInstance(instance: Message): Message {
    return structuredClone(instance);
  }

  private checkSettings(settings: Message, databaseVersion: string): void {
    checkTier(settings.tier);
    const backup = (settings.backupConfiguration ?? {}) as Message;
    if (settings.availabilityType === 'REGIONAL' && !backup.enabled) throw invalidArgument('Invalid request: High availability (REGIONAL) requires automated backups to be enabled.');
    if (backup.pointInTimeRecoveryEnabled && !backup.enabled) throw invalidArgument('Invalid request: Point-in-time recovery requires automated backups to be enabled.');
    if (backup.pointInTimeRecoveryEnabled && !databaseVersion.startsWith('POSTGRES')) throw invalidArgument('the fake knows PostgreSQL instances only');
    const retained = Number((backup.backupRetentionSettings as Message | undefined)?.retainedBackups ?? 7);
    const logDays = Number(backup.transactionLogRetentionDays ?? 7);
    if (retained < 1 || retained > 365) throw invalidArgument(`Invalid request: retainedBackups must be between 1 and 365, not ${retained}.`);
    if (backup.pointInTimeRecoveryEnabled && (logDays < 1 || logDays > 35)) throw invalidArgument(`Invalid request: transactionLogRetentionDays must be between 1 and 35, not ${logDays}.`);
    if (backup.pointInTimeRecoveryEnabled && logDays >= retained) {
      throw invalidArgument(`Invalid request: transactionLogRetentionDays (${logDays}) must be less than retainedBackups (${retained}).`);
    }
    const ip = (settings.ipConfiguration ?? {}) as Message;
    if (ip.ipv4Enabled === false && !ip.privateNetwork) throw invalidArgument('Invalid request: At least one of public IP or private IP address connectivity must be enabled.');
    if (ip.privateNetwork && !/^projects\/[^/]+\/global\/networks\/[^/]+$/.test(String(ip.privateNetwork))) {
      throw invalidArgument(`Invalid request: privateNetwork "${String(ip.privateNetwork)}" is not projects/{project}/global/networks/{network}.`);
    }
  }

  private startSql(project: string, instance: string, type: string, finish: SqlOperation['finish'], method: string): Message {
    const key = this.key(project, instance);
    // Databases and users are their own services in the proto, so a fault can name their operations apart.
    const service = type.endsWith('_DATABASE') ? 'SqlDatabasesService' : type.endsWith('_USER') ? 'SqlUsersService' : 'SqlInstancesService';
    if (this.busy.has(key)) {
      throw new FakeError(GrpcStatus.ABORTED, 'Operation failed because another operation was already in progress. Try your request after the current operation is complete.');
    }
    const id = randomUUID();
    const op: Message = {
      kind: 'sql#operation',
      name: id,
      status: 'PENDING',
      operationType: type,
      targetId: instance,
      targetProject: project,
      targetLink: `https://sqladmin.googleapis.com/v1/projects/${project}/instances/${instance}`,
      selfLink: `https://sqladmin.googleapis.com/v1/projects/${project}/operations/${id}`,
      insertTime: new Date().toISOString(),
      user: 'fake@example.com',
    };
    const pending: SqlOperation = { op, polls: this.faults.pollsFor(service, method), seen: 0, started: Date.now(), deadlineMs: this.faults.deadlineFor(service, method), instance: key, finish };
    this.operations.set(`${project}/${id}`, pending);
    this.busy.set(key, id);
    this.advance(pending);
    return structuredClone(op);
  }

  private advance(pending: SqlOperation): void {
    if (pending.op.status === 'DONE') return;
    if (pending.seen > 0) pending.op.status = 'RUNNING';
    if (pending.seen < pending.polls) return;
    const failure = pending.finish();
    pending.op.status = 'DONE';
    pending.op.endTime = new Date().toISOString();
    if (failure) pending.op.error = { kind: 'sql#operationErrors', errors: [{ kind: 'sql#operationError', code: GrpcStatus[failure.code], message: failure.message }] };
    this.busy.delete(pending.instance);
  }

  protected override settle(): void {
    for (const pending of this.operations.values()) if (pending.op.status !== 'DONE' && this.faults.overdue(pending.started, pending.deadlineMs)) {
      pending.seen = pending.polls;
      this.advance(pending);
    }
  }

  private getOperation(req: Message): Message {
    const pending = this.operations.get(`${String(req.project)}/${String(req.operation)}`);
    if (!pending) throw notFound(`The operation ${String(req.operation)} does not exist`);
    pending.seen += 1;
    this.advance(pending);
    return structuredClone(pending.op);
  }

  private insert(req: Message): Message {
    const body = (req.body ?? {}) as Message;
    const project = String(req.project);
    const name = String(body.name ?? '');
    if (!/^[a-z](?:[-a-z0-9]{0,96}[a-z0-9])?$/.test(name)) throw invalidArgument(`Invalid request: instance name (${name}) must be lowercase letters, digits and hyphens, start with a letter, and be at most 98 characters.`);
    if (this.instances.has(this.key(project, name))) throw alreadyExists('The Cloud SQL instance');
    const databaseVersion = String(body.databaseVersion ?? '');
    if (!/^POSTGRES_\d+$/.test(databaseVersion)) throw invalidArgument(`the fake makes PostgreSQL instances only (databaseVersion POSTGRES_n), not "${databaseVersion}"`);
    if (!body.region) throw invalidArgument('Invalid request: region is required.');
    const settings: Message = { availabilityType: 'ZONAL', storageAutoResize: true, dataDiskType: 'PD_SSD', ...(body.settings as Message | undefined), settingsVersion: '1' };
    this.checkSettings(settings, databaseVersion);
    const { rootPassword, ...rest } = body;
    const instance: Message = {
      kind: 'sql#instance',
      ...rest,
      settings,
      project,
      state: 'PENDING_CREATE',
      backendType: 'SECOND_GEN',
      instanceType: 'CLOUD_SQL_INSTANCE',
      connectionName: `${project}:${String(body.region)}:${name}`,
      gceZone: `${String(body.region)}-b`,
      selfLink: `https://sqladmin.googleapis.com/v1/projects/${project}/instances/${name}`,
      createTime: new Date().toISOString(),
      etag: randomUUID(),
    };
    const stored: StoredInstance = {
      instance,
      rootPassword: rootPassword as string | undefined,
      databases: new Map([['postgres', { kind: 'sql#database', name: 'postgres', instance: name, project, charset: 'UTF8', collation: 'en_US.UTF8' }]]),
      users: new Map([['postgres', { user: { kind: 'sql#user', name: 'postgres', instance: name, project, type: 'BUILT_IN' }, password: rootPassword as string | undefined }]]),
    };
    this.instances.set(this.key(project, name), stored);
    return this.startSql(project, name, 'CREATE', () => {
      instance.state = 'RUNNABLE';
      const ip = (settings.ipConfiguration ?? {}) as Message;
      instance.ipAddresses = [
        ...(ip.privateNetwork ? [{ type: 'PRIVATE', ipAddress: this.sqlOptions.privateIp ?? '127.0.0.1' }] : []),
        ...(ip.ipv4Enabled !== false ? [{ type: 'PRIMARY', ipAddress: '127.0.0.2' }] : []),
      ];
      instance.serverCaCert = { kind: 'sql#sslCert', cert: this.sqlOptions.serverCaPem ?? '', commonName: `C=US,O=Google\\, Inc,CN=Google Cloud SQL Server CA`, instance: name };
      if (settings.availabilityType === 'REGIONAL') instance.secondaryGceZone = `${String(body.region)}-c`;
      return undefined;
    }, 'Insert');
  }

  private patch(req: Message): Message {
    const stored = this.stored(req.project, req.instance);
    const body = (req.body ?? {}) as Message;
    const changes = (body.settings ?? {}) as Message;
    const current = stored.instance.settings as Message;
    if (changes.settingsVersion !== undefined && String(changes.settingsVersion) !== String(current.settingsVersion)) {
      throw new FakeError(GrpcStatus.ABORTED, 'Precondition check failed: the settings version does not match the current one; read the instance again and retry.');
    }
    const next: Message = { ...current };
    for (const [key, value] of Object.entries(changes)) {
      if (key === 'settingsVersion') continue;
      const nested = value !== null && typeof value === 'object' && !Array.isArray(value) && current[key] && typeof current[key] === 'object';
      next[key] = nested ? { ...(current[key] as Message), ...(value as Message) } : value;
    }
    this.checkSettings(next, String(stored.instance.databaseVersion));
    return this.startSql(String(req.project), String(req.instance), 'UPDATE', () => {
      next.settingsVersion = String(Number(current.settingsVersion) + 1);
      stored.instance.settings = next;
      stored.instance.etag = randomUUID();
      return undefined;
    }, 'Patch');
  }

  /** The final-backup parameters of each delete, for tests (the issue: a final backup unless the user declines). */
  readonly deletes: { instance: string; enableFinalBackup: boolean; finalBackupTtlDays?: string }[] = [];

  private delete(req: Message): Message {
    const stored = this.stored(req.project, req.instance);
    if ((stored.instance.settings as Message).deletionProtectionEnabled) {
      throw new FakeError(
        GrpcStatus.FAILED_PRECONDITION,
        'The instance is protected. Please disable the deletion protection and try again. To disable deletion protection, update the instance settings with deletionProtectionEnabled set to false.',
      );
    }
    const enableFinalBackup = String(req.enableFinalBackup) === 'true';
    this.deletes.push({ instance: String(req.instance), enableFinalBackup, ...(req.finalBackupTtlDays ? { finalBackupTtlDays: String(req.finalBackupTtlDays) } : {}) });
    stored.instance.state = 'PENDING_DELETE';
    return this.startSql(String(req.project), String(req.instance), 'DELETE', () => {
      this.instances.delete(this.key(req.project, req.instance));
      return undefined;
    }, 'Delete');
  }

  private runnable(req: Message): StoredInstance {
    const stored = this.stored(req.project, req.instance);
    if (stored.instance.state !== 'RUNNABLE') {
      throw new FakeError(GrpcStatus.FAILED_PRECONDITION, `Invalid request: Invalid request since instance is not running (state ${String(stored.instance.state)}).`);
    }
    return stored;
  }

  private insertDatabase(req: Message): Message {
    const stored = this.runnable(req);
    const body = (req.body ?? {}) as Message;
    const name = String(body.name ?? '');
    if (!/^[A-Za-z_][\w$-]{0,62}$/.test(name)) throw invalidArgument(`Invalid request: database name "${name}" is not valid.`);
    if (stored.databases.has(name)) throw alreadyExists(`The database ${name}`);
    return this.startSql(String(req.project), String(req.instance), 'CREATE_DATABASE', () => {
      stored.databases.set(name, { kind: 'sql#database', charset: 'UTF8', collation: 'en_US.UTF8', ...body, name, instance: req.instance, project: req.project });
      return undefined;
    }, 'Insert');
  }

  private database(req: Message): Message {
    const found = this.stored(req.project, req.instance).databases.get(String(req.database));
    if (!found) throw notFound(`The database ${String(req.database)}`);
    return found;
  }

  private deleteDatabase(req: Message): Message {
    const stored = this.runnable(req);
    this.database(req);
    return this.startSql(String(req.project), String(req.instance), 'DELETE_DATABASE', () => {
      stored.databases.delete(String(req.database));
      return undefined;
    }, 'Delete');
  }

  private insertUser(req: Message): Message {
    const stored = this.runnable(req);
    const body = (req.body ?? {}) as Message;
    const name = String(body.name ?? '');
    if (!name) throw invalidArgument('Invalid request: user name is required.');
    if (stored.users.has(name)) throw alreadyExists(`The user ${name}`);
    const { password, ...user } = body;
    return this.startSql(String(req.project), String(req.instance), 'CREATE_USER', () => {
      stored.users.set(name, { user: { kind: 'sql#user', type: 'BUILT_IN', ...user, name, instance: req.instance, project: req.project }, password: password as string | undefined });
      return undefined;
    }, 'Insert');
  }

  private user(req: Message): { user: Message; password?: string } {
    const found = this.stored(req.project, req.instance).users.get(String(req.name));
    if (!found) throw notFound(`The user ${String(req.name)}`);
    return found;
  }

  private updateUser(req: Message): Message {
    this.runnable(req);
    const found = this.user(req);
    const body = (req.body ?? {}) as Message;
    return this.startSql(String(req.project), String(req.instance), 'UPDATE_USER', () => {
      if (body.password !== undefined) found.password = String(body.password);
      return undefined;
    }, 'Update');
  }

  private deleteUser(req: Message): Message {
    const stored = this.runnable(req);
    this.user(req);
    return this.startSql(String(req.project), String(req.instance), 'DELETE_USER', () => {
      stored.users.delete(String(req.name));
      return undefined;
    }, 'Delete');
  }
}
