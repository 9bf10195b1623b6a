// GetIamPolicy / SetIamPolicy / TestIamPermissions as the gRPC services that carry them answer (google.iam.v1
// messages), over an IamPolicies store; `exists` makes a policy call on a missing resource NOT_FOUND.
import type { Handler, Message } from '../grpcFake';
import { IamPolicies } from './iamPolicies';

export function iamMethods(
  policies: IamPolicies,
  exists: (resource: string) => void,
  granted: (resource: string, permissions: string[]) => string[] = (_r, permissions) => permissions,
): Record<'GetIamPolicy' | 'SetIamPolicy' | 'TestIamPermissions', Handler> {
  const wire = (p: ReturnType<IamPolicies['get']>): Message => ({ version: p.version, bindings: p.bindings, etag: p.etag });
  return {
    GetIamPolicy: (req) => {
      exists(String(req.resource));
      return wire(policies.get(String(req.resource)));
    },
    SetIamPolicy: (req) => {
      exists(String(req.resource));
      const policy = (req.policy ?? {}) as Message;
      return wire(policies.set(String(req.resource), { version: policy.version, bindings: policy.bindings, etag: policy.etag ? Buffer.from(policy.etag) : undefined }));
    },
    TestIamPermissions: (req) => {
      exists(String(req.resource));
      return { permissions: granted(String(req.resource), ((req.permissions ?? []) as unknown[]).map(String)) };
    },
  };
}
