// Pure apart from the discovery calls (no vscode): what this machine offers the form, from the environments
// package's discovery (AWS profiles, GCP ADC and gcloud, kubeconfig contexts, git branches, region lists), reduced
// to the plain choices and notes the webview shows.
import {
  AWS_REGIONS,
  discoverAwsProfiles,
  discoverGcp,
  discoverGitBranches,
  discoverKubeContexts,
  GCP_REGIONS,
  type AwsProfiles,
  type GcpDiscovery,
  type GitBranches,
  type KubeContexts,
} from '../../session/discovery';
import type { Choice, FormOptions } from '../../model/messages';

export interface DiscoverOptions {
  /** The app root: its git repository gives the branches. */
  root: string;
  /** In Restricted Mode git is not run (a repository's config can make git run commands, which is why VS Code's own
   * Git extension is off there too); the branch is typed instead. */
  runGit: boolean;
}

/** Runs every discovery at once; none of them throws (each reports its problems), so neither does this. */
export async function discoverFormOptions({ root, runGit }: DiscoverOptions): Promise<FormOptions> {
  const [aws, gcp, kube, git] = await Promise.all([
    discoverAwsProfiles(),
    discoverGcp(),
    discoverKubeContexts(),
    runGit
      ? discoverGitBranches(root)
      : Promise.resolve<GitBranches>({
          folder: root,
          isRepo: false,
          branches: [],
          problems: ['Git is not run in Restricted Mode: type the branch name, or trust the workspace to choose it from a list.'],
        }),
  ]);
  return toFormOptions(aws, gcp, kube, git);
}

export function toFormOptions(aws: AwsProfiles, gcp: GcpDiscovery, kube: KubeContexts, git: GitBranches): FormOptions {
  const activeProfile = aws.profiles.find((p) => p.active && !p.skipped);
  return {
    // Usable profiles first, the active one at the top; skipped ones are left out and explained in the notes.
    awsProfiles: aws.profiles
      .filter((p) => !p.skipped)
      .sort((a, b) => Number(b.active) - Number(a.active))
      .map((p) => ({ value: p.name, description: [profileKind(p.kind), p.region, p.active ? 'active' : undefined].filter(Boolean).join(' · ') })),
    awsRegions: AWS_REGIONS.map((r) => ({ value: r.id, description: r.name })),
    gcpProjects: gcp.projects.map((p) => ({ value: p.value, description: gcpSource(p.source) })),
    gcpRegions: GCP_REGIONS.map((r) => ({ value: r.id, description: r.name })),
    kubeContexts: kube.contexts
      .slice()
      .sort((a, b) => Number(b.current) - Number(a.current))
      .map((c): Choice => ({ value: c.name, description: [c.cluster, c.current ? 'current' : undefined, c.problems.length > 0 ? 'has problems' : undefined].filter(Boolean).join(' · ') })),
    branches: [...(git.current ? [git.current] : []), ...git.branches.filter((b) => b !== git.current)].map((b) => ({
      value: b,
      ...(b === git.current && { description: 'current' }),
    })),
    notes: {
      aws: [
        ...aws.problems,
        ...aws.profiles.filter((p) => p.skipped).map((p) => `Profile "${p.name}" is not offered: ${p.skipped}`),
      ],
      gcp: gcp.problems,
      kubernetes: [...kube.problems, ...kube.contexts.flatMap((c) => c.problems.map((p) => `Context "${c.name}": ${p}`))],
      git: git.problems,
    },
    suggested: { awsRegion: activeProfile?.region ?? '', gcpRegion: gcp.region?.value ?? '' },
  };
}

function profileKind(kind: AwsProfiles['profiles'][number]['kind']): string {
  const names: Record<typeof kind, string> = {
    'static-keys': 'access keys',
    sso: 'SSO',
    role: 'assumed role',
    'web-identity': 'web identity',
    process: 'credential process',
    login: 'console login',
    unknown: 'unknown',
  };
  return names[kind];
}

function gcpSource(source: GcpDiscovery['projects'][number]['source']): string {
  const names: Record<typeof source, string> = {
    environment: 'from the environment',
    'adc-service-account': 'from the ADC service account',
    'adc-quota-project': 'ADC quota project',
    'gcloud-config': 'from gcloud config',
  };
  return names[source];
}
