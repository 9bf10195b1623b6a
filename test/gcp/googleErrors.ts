// Google's error model as the fakes answer it: a google.rpc.Status with ErrorInfo, Help and LocalizedMessage details,
// sent as the `grpc-status-details-bin` trailer over gRPC and as `{"error": {...}}` over REST, so the real client
// libraries decode them into the same GoogleError (reason, domain, errorInfoMetadata) that Google's servers produce.
// The texts copy what Google's APIs say for a disabled API and a missing permission.
import { status as GrpcStatus } from '@grpc/grpc-js';
import protobuf from 'protobufjs';

export type ErrorDetail =
  | { type: 'ErrorInfo'; reason: string; domain: string; metadata: Record<string, string> }
  | { type: 'Help'; links: { description: string; url: string }[] }
  | { type: 'LocalizedMessage'; locale: string; message: string };

/** What a fake throws from a handler (or a fault rule produces); the transport turns it into Google's wire form. */
export class FakeError extends Error {
  constructor(
    readonly code: GrpcStatus,
    message: string,
    readonly details: ErrorDetail[] = [],
  ) {
    super(message);
    this.name = 'FakeError';
  }
}

// google/rpc/status.proto and error_details.proto, the four messages used here, with their field numbers.
const rpcRoot = protobuf.Root.fromJSON(<protobuf.INamespace>{
  nested: {
    google: {
      nested: {
        protobuf: { nested: { Any: { fields: { type_url: { type: 'string', id: 1 }, value: { type: 'bytes', id: 2 } } } } },
        rpc: {
          nested: {
            Status: {
              fields: {
                code: { type: 'int32', id: 1 },
                message: { type: 'string', id: 2 },
                details: { rule: 'repeated', type: 'google.protobuf.Any', id: 3 },
              },
            },
            ErrorInfo: {
              fields: {
                reason: { type: 'string', id: 1 },
                domain: { type: 'string', id: 2 },
                metadata: { keyType: 'string', type: 'string', id: 3 },
              },
            },
            Help: {
              fields: { links: { rule: 'repeated', type: 'Link', id: 1 } },
              nested: { Link: { fields: { description: { type: 'string', id: 1 }, url: { type: 'string', id: 2 } } } },
            },
            LocalizedMessage: { fields: { locale: { type: 'string', id: 1 }, message: { type: 'string', id: 2 } } },
          },
        },
      },
    },
  },
});

/** The `grpc-status-details-bin` value: a serialized google.rpc.Status. */
export function statusDetailsBin(err: FakeError): Buffer {
  const details = err.details.map((detail) => {
    const { type, ...fields } = detail;
    const message = rpcRoot.lookupType(`google.rpc.${type}`);
    return { type_url: `type.googleapis.com/google.rpc.${type}`, value: message.encode(message.fromObject(fields)).finish() };
  });
  const statusType = rpcRoot.lookupType('google.rpc.Status');
  return Buffer.from(statusType.encode(statusType.fromObject({ code: err.code, message: err.message, details })).finish());
}

const HTTP_STATUS: Record<number, number> = {
  [GrpcStatus.OK]: 200,
  [GrpcStatus.CANCELLED]: 499,
  [GrpcStatus.UNKNOWN]: 500,
  [GrpcStatus.INVALID_ARGUMENT]: 400,
  [GrpcStatus.DEADLINE_EXCEEDED]: 504,
  [GrpcStatus.NOT_FOUND]: 404,
  [GrpcStatus.ALREADY_EXISTS]: 409,
  [GrpcStatus.PERMISSION_DENIED]: 403,
  [GrpcStatus.RESOURCE_EXHAUSTED]: 429,
  [GrpcStatus.FAILED_PRECONDITION]: 400,
  [GrpcStatus.ABORTED]: 409,
  [GrpcStatus.OUT_OF_RANGE]: 400,
  [GrpcStatus.UNIMPLEMENTED]: 501,
  [GrpcStatus.INTERNAL]: 500,
  [GrpcStatus.UNAVAILABLE]: 503,
  [GrpcStatus.DATA_LOSS]: 500,
  [GrpcStatus.UNAUTHENTICATED]: 401,
};

/** The HTTP status and JSON body Google's REST APIs send for this error (AIP-193). */
export function restError(err: FakeError): { status: number; body: unknown } {
  const status = HTTP_STATUS[err.code] ?? 500;
  const details = err.details.map(({ type, ...fields }) => ({ '@type': `type.googleapis.com/google.rpc.${type}`, ...fields }));
  return { status, body: { error: { code: status, message: err.message, status: GrpcStatus[err.code], details } } };
}

/** A disabled API, as every Google API answers a call to it: PERMISSION_DENIED with an ErrorInfo of reason SERVICE_DISABLED. */
export function serviceDisabled({ service, title, projectNumber }: { service: string; title: string; projectNumber: string }): FakeError {
  const activationUrl = `https://console.developers.google.com/apis/api/${service}/overview?project=${projectNumber}`;
  const message =
    `${title} has not been used in project ${projectNumber} before or it is disabled. Enable it by visiting ${activationUrl} ` +
    'then retry. If you enabled this API recently, wait a few minutes for the action to propagate to our systems and retry.';
  return new FakeError(GrpcStatus.PERMISSION_DENIED, message, [
    {
      type: 'ErrorInfo',
      reason: 'SERVICE_DISABLED',
      domain: 'googleapis.com',
      metadata: { service, consumer: `projects/${projectNumber}`, activationUrl, serviceTitle: title, containerInfo: projectNumber },
    },
    { type: 'LocalizedMessage', locale: 'en-US', message },
    { type: 'Help', links: [{ description: 'Google developers console API activation', url: activationUrl }] },
  ]);
}

/** A missing IAM permission, as Google's APIs answer it: PERMISSION_DENIED naming the permission and the resource. */
export function permissionDenied({ permission, resource }: { permission: string; resource: string }): FakeError {
  return new FakeError(GrpcStatus.PERMISSION_DENIED, `Permission '${permission}' denied on resource '${resource}' (or it may not exist).`, [
    { type: 'ErrorInfo', reason: 'IAM_PERMISSION_DENIED', domain: 'iam.googleapis.com', metadata: { permission, resource } },
  ]);
}

export function notFound(what: string): FakeError {
  return new FakeError(GrpcStatus.NOT_FOUND, `${what} not found.`);
}

export function alreadyExists(what: string): FakeError {
  return new FakeError(GrpcStatus.ALREADY_EXISTS, `${what} already exists.`);
}

export function invalidArgument(message: string): FakeError {
  return new FakeError(GrpcStatus.INVALID_ARGUMENT, message);
}
