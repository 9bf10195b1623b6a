// Secret Manager (google.cloud.secretmanager.v1.SecretManagerService) from @google-cloud/secret-manager's protos:
// secrets with automatic or user-managed replication, versions added, read and accessed (`latest` too), deleted,
// and the secret's IAM policy (per-service secretAccessor bindings). Everything else is UNIMPLEMENTED.
import { status as GrpcStatus } from '@grpc/grpc-js';
import { GrpcFake, timestampNow, type Message } from '../grpcFake';
import { alreadyExists, FakeError, invalidArgument, notFound } from '../googleErrors';
import { iamMethods } from './iamMethods';
import { IamPolicies } from './iamPolicies';

interface StoredSecret {
  secret: Message;
  versions: { version: Message; data: Buffer }[];
}

export class SecretManagerFake extends GrpcFake {
  readonly secrets = new Map<string, StoredSecret>();
  readonly policies: IamPolicies;

  constructor() {
    const policies = new IamPolicies();
    super({
      name: 'Secret Manager fake',
      protosFrom: '@google-cloud/secret-manager',
      api: { service: 'secretmanager.googleapis.com', title: 'Secret Manager API' },
      services: {
        'google.cloud.secretmanager.v1.SecretManagerService': {
          CreateSecret: (req) => this.create(req),
          GetSecret: (req) => this.stored(req.name).secret,
          UpdateSecret: (req) => this.update(req),
          DeleteSecret: (req) => this.delete(req),
          AddSecretVersion: (req) => this.addVersion(req),
          GetSecretVersion: (req) => this.version(req.name).version,
          ListSecretVersions: (req) => ({ versions: [...this.stored(req.parent).versions].reverse().map((v) => v.version), nextPageToken: '', totalSize: this.stored(req.parent).versions.length }),
          AccessSecretVersion: (req) => {
            const found = this.version(req.name);
            if (found.version.state !== 'ENABLED') throw new FakeError(GrpcStatus.FAILED_PRECONDITION, `Secret Version [${String(found.version.name)}] is in ${String(found.version.state)} state.`);
            return { name: found.version.name, payload: { data: found.data } };
          },
          ...iamMethods(policies, (resource) => void this.stored(resource)),
        },
      },
    });
    this.policies = policies;
  }

  private stored(name: unknown): StoredSecret {
    const found = this.secrets.get(String(name));
    if (!found) throw notFound(`Secret [${String(name)}]`);
    return found;
  }

  private version(name: unknown): { version: Message; data: Buffer } {
    const match = /^(projects\/[^/]+\/secrets\/[^/]+)\/versions\/([^/]+)$/.exec(String(name ?? ''));
    if (!match) throw invalidArgument(`"${String(name)}" is not projects/*/secrets/*/versions/*`);
    const { versions } = this.stored(match[1]);
    const found = match[2] === 'latest'
      ? [...versions].reverse().find((v) => v.version.state !== 'DESTROYED')
      : versions.find((v) => String(v.version.name).endsWith(`/versions/${match[2]}`));
    if (!found) throw notFound(`Secret Version [${String(name)}]`);
    return found;
  }

  private create(req: Message): Message {
    if (!/^projects\/[^/]+$/.test(String(req.parent ?? ''))) throw invalidArgument(`parent "${String(req.parent)}" is not projects/{project}`);
    if (!/^[\w-]{1,255}$/.test(String(req.secretId ?? ''))) throw invalidArgument(`Secret id "${String(req.secretId)}" must be 1 to 255 letters, digits, underscores or hyphens`);
    const name = `${String(req.parent)}/secrets/${String(req.secretId)}`;
    if (this.secrets.has(name)) throw alreadyExists(`Secret [${name}]`);
    const spec = (req.secret ?? {}) as Message;
    const replication = spec.replication as Message | undefined;
    if (!replication?.automatic && !((replication?.userManaged as Message | undefined)?.replicas as unknown[] | undefined)?.length) {
      throw invalidArgument('Secret.replication must be automatic or user_managed with at least one replica');
    }
    const secret = { ...spec, name, createTime: timestampNow(), etag: `"${Date.now().toString(16)}"` };
    this.secrets.set(name, { secret, versions: [] });
    return secret;
  }

  /** Labels only, the one field the provider changes (update_mask: labels). */
  private update(req: Message): Message {
    const spec = (req.secret ?? {}) as Message;
    const found = this.stored(spec.name);
    const paths = ((req.updateMask as { paths?: string[] } | undefined)?.paths ?? []).map(String);
    if (paths.length === 0) throw invalidArgument('update_mask is required');
    const refused = paths.filter((p) => p !== 'labels');
    if (refused.length > 0) throw new FakeError(GrpcStatus.UNIMPLEMENTED, `the Secret Manager fake does not update ${refused.join(', ')}: add it to test/gcp/fakes/secretManager.ts`);
    found.secret = { ...found.secret, labels: spec.labels ?? {}, etag: `"${Date.now().toString(16)}"` };
    return found.secret;
  }

  private delete(req: Message): Message {
    const found = this.stored(req.name);
    if (req.etag && req.etag !== found.secret.etag) throw new FakeError(GrpcStatus.ABORTED, `etag ${String(req.etag)} does not match the secret's current etag`);
    this.secrets.delete(String(req.name));
    this.policies.delete(String(req.name));
    return {};
  }

  private addVersion(req: Message): Message {
    const found = this.stored(req.parent);
    const data = (req.payload as Message | undefined)?.data as Buffer | undefined;
    if (!data || data.length === 0) throw invalidArgument('payload.data is required');
    if (data.length > 64 * 1024) throw invalidArgument('payload.data is larger than 64 KiB');
    const version = { name: `${String(req.parent)}/versions/${found.versions.length + 1}`, createTime: timestampNow(), state: 'ENABLED', etag: `"${Date.now().toString(16)}"` };
    found.versions.push({ version, data: Buffer.from(data) });
    return version;
  }
}
