import path from 'node:path';
import { parseIni } from '../ini';
import { expandHome, readOptional, resolveEnv, type DiscoveryEnv } from '../../../files/readOptional';
import type { GcpDiscovery, GkeClusterListing, GkeClusterSummary, Sourced } from '../../../model/discovery';

export interface GcpDiscoveryOptions extends DiscoveryEnv {
  platform?: NodeJS.Platform;
}

const ADC_ADVICE =
  'Run "gcloud auth application-default login". The extension uses Application Default Credentials, not the gcloud CLI login ("gcloud auth login").';

/**
 * Finds the GCP project, account and region this machine is set up for, from Application Default Credentials
 * (GOOGLE_APPLICATION_CREDENTIALS or the well-known file) and the active gcloud configuration, and says where each
 * value came from. Only identifiers are read from the ADC file; its secrets (refresh token, private key) are not kept.
 */
export async function discoverGcp(options: GcpDiscoveryOptions = {}): Promise<GcpDiscovery> {
  const { env, homedir } = resolveEnv(options);
  const platform = options.platform ?? process.platform;
  const problems: string[] = [];
  const result: GcpDiscovery = { projects: [], problems };
  // The well-known ADC place is google-auth-library's (which the provisioning uses), not gcloud's CLOUDSDK_CONFIG.
  const wellKnown = path.join(platform === 'win32' && env.APPDATA ? env.APPDATA : path.join(homedir, '.config'), 'gcloud');
  const gcloudDir = env.CLOUDSDK_CONFIG ? expandHome(env.CLOUDSDK_CONFIG, homedir) : wellKnown;

  const fromEnv = env.GOOGLE_APPLICATION_CREDENTIALS ? expandHome(env.GOOGLE_APPLICATION_CREDENTIALS, homedir) : undefined;
  const adcFile = fromEnv ?? path.join(wellKnown, 'application_default_credentials.json');
  const adc = await readAdc(adcFile, problems);
  if (adc) result.adc = { file: adcFile, type: adc.type, ...(adc.account && { account: adc.account }) };
  else if (!problems.some((p) => p.includes(adcFile))) {
    // Not there at all (a broken file has said what is wrong with it already).
    problems.push(
      fromEnv
        ? `GOOGLE_APPLICATION_CREDENTIALS points to ${fromEnv}, which does not exist. Fix the variable, or unset it and ${ADC_ADVICE[0].toLowerCase()}${ADC_ADVICE.slice(1)}`
        : `No Application Default Credentials: ${adcFile} does not exist. ${ADC_ADVICE}`,
    );
  }

  const gcloud = await readGcloud(gcloudDir, env, problems);
  if (gcloud) result.gcloud = gcloud;

  // Project candidates in the order google-auth-library resolves a project id: the environment, the service-account
  // key, then gcloud; the ADC quota project is a good guess after those.
  const candidates: (Sourced | undefined)[] = [
    env.GOOGLE_CLOUD_PROJECT ? { value: env.GOOGLE_CLOUD_PROJECT, source: 'environment', from: 'GOOGLE_CLOUD_PROJECT' } : undefined,
    env.GCLOUD_PROJECT ? { value: env.GCLOUD_PROJECT, source: 'environment', from: 'GCLOUD_PROJECT' } : undefined,
    adc?.projectId ? { value: adc.projectId, source: 'adc-service-account', from: adcFile } : undefined,
    env.CLOUDSDK_CORE_PROJECT ? { value: env.CLOUDSDK_CORE_PROJECT, source: 'environment', from: 'CLOUDSDK_CORE_PROJECT' } : undefined,
    gcloud?.project ? { value: gcloud.project, source: 'gcloud-config', from: gcloud.configFile } : undefined,
    adc?.quotaProjectId ? { value: adc.quotaProjectId, source: 'adc-quota-project', from: adcFile } : undefined,
  ];
  for (const c of candidates) if (c && !result.projects.some((p) => p.value === c.value)) result.projects.push(c);
  if (result.projects.length === 0) {
    problems.push('No GCP project found: set one with "gcloud config set project PROJECT_ID", or type the project id.');
  }

  if (adc?.account) result.account = { value: adc.account, source: 'adc-service-account', from: adcFile };
  else if (gcloud?.account) result.account = { value: gcloud.account, source: 'gcloud-config', from: gcloud.configFile };

  if (env.CLOUDSDK_COMPUTE_REGION) result.region = { value: env.CLOUDSDK_COMPUTE_REGION, source: 'environment', from: 'CLOUDSDK_COMPUTE_REGION' };
  else if (gcloud?.region) result.region = { value: gcloud.region, source: 'gcloud-config', from: gcloud.configFile };
  return result;
}

interface Adc {
  type: string;
  account?: string;
  projectId?: string;
  quotaProjectId?: string;
}

async function readAdc(file: string, problems: string[]): Promise<Adc | undefined> {
  const text = await readOptional(file, problems);
  if (text === undefined) return undefined;
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    problems.push(`${file} is not valid JSON, so Application Default Credentials cannot be used. ${ADC_ADVICE}`);
    return undefined;
  }
  if (typeof json !== 'object' || json === null || typeof json.type !== 'string') {
    problems.push(`${file} has no "type", so it is not a credentials file Google's libraries can use. ${ADC_ADVICE}`);
    return undefined;
  }
  const str = (key: string) => (typeof json[key] === 'string' && json[key] !== '' ? (json[key] as string) : undefined);
  // Impersonation (external_account, impersonated_service_account) names the service account in its URL.
  const impersonated = /serviceAccounts\/([^/:]+):generateAccessToken/.exec(str('service_account_impersonation_url') ?? '')?.[1];
  const adc: Adc = { type: json.type };
  const account = json.type === 'service_account' ? str('client_email') : impersonated;
  if (account) adc.account = decodeURIComponent(account);
  if (json.type === 'service_account' && str('project_id')) adc.projectId = str('project_id');
  if (str('quota_project_id')) adc.quotaProjectId = str('quota_project_id');
  return adc;
}

async function readGcloud(dir: string, env: NodeJS.ProcessEnv, problems: string[]): Promise<GcpDiscovery['gcloud']> {
  const named = env.CLOUDSDK_ACTIVE_CONFIG_NAME || (await readOptional(path.join(dir, 'active_config'), problems))?.trim();
  const activeConfig = named || 'default';
  const configFile = path.join(dir, 'configurations', `config_${activeConfig}`);
  const text = await readOptional(configFile, problems);
  if (text === undefined) {
    // No gcloud at all is fine (a service-account key is enough); a named configuration that is gone is not.
    if (named) problems.push(`the active gcloud configuration "${activeConfig}" has no file ${configFile}; run "gcloud config configurations list"`);
    return undefined;
  }
  const ini = parseIni(text);
  problems.push(...ini.problems.map((p) => `${configFile}: ${p.message}`));
  const get = (section: string, key: string) => ini.sections.get(section)?.values.get(key) || undefined;
  const gcloud: NonNullable<GcpDiscovery['gcloud']> = { configFile, activeConfig };
  const account = get('core', 'account');
  const project = get('core', 'project');
  const region = get('compute', 'region');
  if (account) gcloud.account = account;
  if (project) gcloud.project = project;
  if (region) gcloud.region = region;
  return gcloud;
}

export interface GkeListOptions {
  project: string;
  /** Any region: the list covers every location of the project. */
  region?: string;
  env?: NodeJS.ProcessEnv;
  homedir?: string;
}

/** GKE's project ids and cluster locations are lower-case words, so nothing else is sent to the API. */
const PROJECT_ID = /^[a-z][-a-z0-9]{4,28}[a-z0-9]$/;

/**
 * The project's GKE clusters in every location (clusters.list on `projects/P/locations/-`), with Application Default
 * Credentials and the endpoint gcloud's overrides give, as the provider itself connects. Never throws: missing ADC,
 * a disabled API, a missing permission or an unreachable Google come back as a problem that says what to do.
 */
export async function listGkeClusters(options: GkeListOptions, signal: AbortSignal): Promise<GkeClusterListing> {
  const { project } = options;
  if (!PROJECT_ID.test(project)) return { project, problems: [`"${project}" is not a GCP project id, so its GKE clusters were not looked up.`] };
  let close: (() => Promise<void>) | undefined;
  try {
    const { openGcpConnection } = await import('./connection');
    const connection = await openGcpConnection({ project, region: options.region ?? '', ...(options.env && { env: options.env }), ...(options.homedir && { homedir: options.homedir }) });
    const { ClusterManagerClient } = await (await import('./clients')).loadContainer();
    const client = new ClusterManagerClient(connection.gapicOptions('container'));
    close = () => client.close();
    const [response] = await connection.call('container', 'clusters.list', () => client.listClusters({ parent: `projects/${project}/locations/-` }), signal);
    const problems: string[] = [];
    const missing = (response.missingZones ?? []).filter((z): z is string => typeof z === 'string' && z !== '');
    if (missing.length > 0) problems.push(`GKE could not list the clusters in ${missing.join(', ')} just now, so clusters there may be missing from the list.`);
    return { project, clusters: (response.clusters ?? []).map(summary).filter((c): c is GkeClusterSummary => c !== undefined), problems };
  } catch (err) {
    if (signal.aborted) throw err;
    return { project, problems: [`Could not list the GKE clusters of ${project}: ${err instanceof Error ? err.message : String(err)}`] };
  } finally {
    await close?.().catch(() => undefined);
  }
}

interface ClusterMessage {
  name?: string | null;
  location?: string | null;
  status?: string | number | null;
  autopilot?: { enabled?: boolean | null } | null;
  workloadIdentityConfig?: { workloadPool?: string | null } | null;
  endpoint?: string | null;
  privateClusterConfig?: { privateEndpoint?: string | null; publicEndpoint?: string | null } | null;
  controlPlaneEndpointsConfig?: { dnsEndpointConfig?: { endpoint?: string | null } | null } | null;
}

function summary(c: ClusterMessage): GkeClusterSummary | undefined {
  if (!c.name || !c.location) return undefined;
  const endpoints = [c.endpoint, c.privateClusterConfig?.privateEndpoint, c.privateClusterConfig?.publicEndpoint, c.controlPlaneEndpointsConfig?.dnsEndpointConfig?.endpoint]
    .filter((e): e is string => typeof e === 'string' && e !== '');
  const pool = c.workloadIdentityConfig?.workloadPool;
  return {
    name: c.name,
    location: c.location,
    status: typeof c.status === 'string' ? c.status : 'STATUS_UNSPECIFIED',
    autopilot: c.autopilot?.enabled === true,
    ...(pool ? { workloadPool: pool } : {}),
    endpoints: [...new Set(endpoints)],
  };
}
