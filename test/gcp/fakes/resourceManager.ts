// Cloud Resource Manager v3 Projects (google.cloud.resourcemanager.v3.Projects) from
// @google-cloud/resource-manager's protos: a project read by id or number, and its IAM policy read, written with
// etag concurrency, and tested for permissions (the provider's preflight). Everything else is UNIMPLEMENTED.
import { GrpcFake, timestampNow, type Message } from '../grpcFake';
import { notFound } from '../googleErrors';
import { iamMethods } from './iamMethods';
import { IamPolicies } from './iamPolicies';

export interface FakeProject {
  projectId: string;
  projectNumber: string;
  displayName?: string;
}

export class ResourceManagerFake extends GrpcFake {
  readonly policies: IamPolicies;
  /** Permissions TestIamPermissions says the caller lacks (all others are granted). */
  readonly missingPermissions = new Set<string>();
  private readonly projects = new Map<string, Message>();

  constructor(projects: FakeProject[] = [{ projectId: 'encore-test', projectNumber: '123456789012' }]) {
    const policies = new IamPolicies();
    super({
      name: 'Resource Manager fake',
      protosFrom: '@google-cloud/resource-manager',
      api: { service: 'cloudresourcemanager.googleapis.com', title: 'Cloud Resource Manager API', projectNumber: projects[0]?.projectNumber },
      services: {
        'google.cloud.resourcemanager.v3.Projects': {
          GetProject: (req) => this.project(req.name),
          ...iamMethods(
            policies,
            (resource) => void this.project(resource),
            (_resource, permissions) => permissions.filter((p) => !this.missingPermissions.has(p)),
          ),
        },
      },
    });
    this.policies = policies;
    for (const p of projects) {
      const project = { name: `projects/${p.projectNumber}`, projectId: p.projectId, displayName: p.displayName ?? p.projectId, state: 'ACTIVE', createTime: timestampNow() };
      this.projects.set(`projects/${p.projectId}`, project);
      this.projects.set(`projects/${p.projectNumber}`, project);
    }
  }

  /** The policy lives under the project number, whichever name the caller used. */
  private project(name: unknown): Message {
    const project = this.projects.get(String(name));
    if (!project) throw notFound(`Project '${String(name)}'`);
    return project;
  }

  /** The project's IAM policy as a test reads it back independently. */
  projectPolicy(projectId: string): ReturnType<IamPolicies['get']> {
    return this.policies.get(`projects/${projectId}`);
  }
}
