/**
 * Which endpoint each client talks to: the standard endpoint configuration of the AWS SDKs and CLI, resolved for the
 * environment's own profile.
 *
 * Why not leave it to the SDK: @smithy/core/endpoints (`getEndpointFromConfig`) reads `endpoint_url` and the
 * `[services]` section from the profile named by AWS_PROFILE (else `default`), never from a client's `profile`
 * option, and the nested STS clients of the credential providers do the same. An environment whose profile is not
 * the shell's would then send its calls wherever the *other* profile points. So the provider resolves the endpoint
 * here with the SDK's precedence, passes it to every client explicitly, and switches the SDK's own lookup off
 * (`ignoreConfiguredEndpointUrls`).
 *
 * Precedence (the SDK's): AWS_IGNORE_CONFIGURED_ENDPOINT_URLS or the profile's `ignore_configured_endpoint_urls`
 * turn it all off; then AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, the profile's `[services X]` entry for the
 * service, the profile's `endpoint_url`. None of them: the service's public regional endpoint.
 */

import { endpointConfigKey, endpointEnvName } from './services';
import type { ProfileSettings } from './sharedConfig';

export interface ConfiguredEndpoint {
  url: string;
  /** Where it was configured, for messages: `AWS_ENDPOINT_URL_EKS`, `profile dev endpoint_url`, … */
  from: string;
}

const isTrue = (value: string | undefined) => value?.toLowerCase() === 'true';

export function configuredEndpoint(
  serviceId: string,
  profile: ProfileSettings | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ConfiguredEndpoint | undefined {
  if (isTrue(env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS)) return undefined;
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS === undefined && profile?.ignoreConfiguredEndpointUrls) return undefined;
  const serviceVariable = endpointEnvName(serviceId);
  if (env[serviceVariable]) return checked(env[serviceVariable], serviceVariable);
  if (env.AWS_ENDPOINT_URL) return checked(env.AWS_ENDPOINT_URL, 'AWS_ENDPOINT_URL');
  if (!profile) return undefined;
  if (profile.missingServicesSection) {
    throw new Error(
      `profile ${profile.name} names the services section "${profile.missingServicesSection}", but the config file has no ` +
      `[services ${profile.missingServicesSection}] section: add it, or remove "services = ${profile.missingServicesSection}" from the profile`,
    );
  }
  const key = endpointConfigKey(serviceId);
  const fromSection = profile.serviceEndpoints.get(key);
  if (fromSection) return checked(fromSection, `profile ${profile.name} services ${key}.endpoint_url`);
  if (profile.endpointUrl) return checked(profile.endpointUrl, `profile ${profile.name} endpoint_url`);
  return undefined;
}

function checked(url: string, from: string): ConfiguredEndpoint {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw new Error(`${from} is "${url}", which is not a URL: write it as http://host:port or https://host`, { cause: err });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new Error(`${from} is "${url}": an endpoint URL starts with http:// or https://`);
  }
  return { url, from };
}
