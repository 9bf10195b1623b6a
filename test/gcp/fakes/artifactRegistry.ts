// Artifact Registry (google.devtools.artifactregistry.v1.ArtifactRegistry) from @google-cloud/artifact-registry's
// protos: Docker repositories created and deleted through long-running operations, read, and their IAM policy (the
// CI service account's writer binding). Everything else is UNIMPLEMENTED.
import { GrpcFake, timestampNow, type CallContext, type Message } from '../grpcFake';
import { alreadyExists, invalidArgument, notFound } from '../googleErrors';
import { iamMethods } from './iamMethods';
import { IamPolicies } from './iamPolicies';
import { checkId, projectLocation } from './names';

const REPOSITORY = 'google.devtools.artifactregistry.v1.Repository';

export class ArtifactRegistryFake extends GrpcFake {
  readonly repositories = new Map<string, Message>();
  readonly policies: IamPolicies;
  /**
   * The Docker host the repositories' `registryUri` names (Artifact Registry: `LOCATION-docker.pkg.dev`). The fake
   * has no Docker endpoint: a test that pushes sets the host of a local registry standing in (artifactRegistryDocker.ts).
   */
  dockerHost: ((location: string) => string) | undefined;

  constructor() {
    const policies = new IamPolicies();
    super({
      name: 'Artifact Registry fake',
      protosFrom: '@google-cloud/artifact-registry',
      api: { service: 'artifactregistry.googleapis.com', title: 'Artifact Registry API' },
      longrunning: true,
      services: {
        'google.devtools.artifactregistry.v1.ArtifactRegistry': {
          CreateRepository: (req, ctx) => this.create(req, ctx),
          GetRepository: (req) => this.repository(req.name),
          DeleteRepository: (req, ctx) => this.delete(req.name, ctx),
          ...iamMethods(policies, (resource) => void this.repository(resource)),
        },
      },
    });
    this.policies = policies;
  }

  private repository(name: unknown): Message {
    const repository = this.repositories.get(String(name));
    if (!repository) throw notFound(`Requested entity was not found. Repository ${String(name)}`);
    return repository;
  }

  private create(req: Message, ctx: CallContext): Message {
    const { project, location } = projectLocation(req.parent);
    const id = checkId('Repository', req.repositoryId, 63);
    const name = `${String(req.parent)}/repositories/${id}`;
    if (this.repositories.has(name)) throw alreadyExists(`Repository ${name}`);
    const spec = (req.repository ?? {}) as Message;
    if (spec.format !== 'DOCKER') throw invalidArgument(`the fake makes DOCKER repositories only, not ${String(spec.format ?? 'FORMAT_UNSPECIFIED')}`);
    const repository: Message = {
      mode: 'STANDARD_REPOSITORY',
      ...spec,
      name,
      createTime: timestampNow(),
      updateTime: timestampNow(),
      registryUri: `${this.dockerHost?.(location) ?? `${location}-docker.pkg.dev`}/${project}/${id}`,
    };
    return this.startOperation(ctx, `projects/${project}/locations/${location}`, {
      metadata: { type: 'google.devtools.artifactregistry.v1.OperationMetadata', value: {} },
      finish: () => {
        this.repositories.set(name, repository);
        return { type: REPOSITORY, value: repository };
      },
    });
  }

  private delete(name: unknown, ctx: CallContext): Message {
    this.repository(name);
    const [, project, , location] = String(name).split('/');
    return this.startOperation(ctx, `projects/${project}/locations/${location}`, {
      metadata: { type: 'google.devtools.artifactregistry.v1.OperationMetadata', value: {} },
      finish: () => {
        this.repositories.delete(String(name));
        this.policies.delete(String(name));
        return undefined;
      },
    });
  }
}
