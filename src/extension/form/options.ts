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
import { clip, FORM_LIMITS, withinLength } from '../../model/limits';
import { clusterChoiceValue, managedClusterOfContext } from '../../model/managedClusters';
import type { Choice, FormOptions } from '../../model/messages';
import { PRODUCT_IMAGES, PRODUCT_IMAGE_ROLES } from '../../session';

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
  return capFormOptions({
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
    ...existingClusters(kube),
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
    productImages: productImageChoices(),
  });
}

/** The images the image override may replace, each with what it runs. */
export function productImageChoices(): Choice[] {
  return PRODUCT_IMAGES.map((value) => ({ value, description: PRODUCT_IMAGE_ROLES[value] ?? '' }));
}

/**
 * The options within the limits the page checks (limits.ts): a repository with thousands of branches or a
 * kubeconfig with dozens of broken contexts must not make the page drop the whole message. Each list keeps its
 * first values (the current branch, context and profile come first) and a note says how many were left out.
 */
/** The kubeconfig's EKS and GKE clusters, once each (several contexts may name one), for "use an existing cluster". */
function existingClusters(kube: KubeContexts): Pick<FormOptions, 'eksClusters' | 'gkeClusters'> {
  const eks = new Map<string, Choice>();
  const gke = new Map<string, Choice>();
  for (const c of kube.contexts) {
    const m = managedClusterOfContext(c);
    if (!m) continue;
    const value = clusterChoiceValue(m);
    const target = m.kind === 'eks' ? eks : gke;
    if (!target.has(value)) target.set(value, { value, description: m.kind === 'eks' && m.account ? `context ${c.name} · account ${m.account}` : `context ${c.name}` });
  }
  return { eksClusters: [...eks.values()], gkeClusters: [...gke.values()] };
}

export function capFormOptions(o: FormOptions): FormOptions {
  const extra = { aws: [] as string[], gcp: [] as string[], kubernetes: [] as string[], git: [] as string[] };
  const list = (choices: Choice[], what: string, notes: string[], hint: string): Choice[] => {
    // A value longer than a form field can hold cannot be chosen (nor saved): it is left out, and said so.
    const fitting = choices.filter((c) => withinLength(c.value, FORM_LIMITS.text));
    const tooLong = choices.length - fitting.length;
    if (tooLong > 0) notes.push(`${count(tooLong, what)} with names over ${FORM_LIMITS.text} characters ${tooLong === 1 ? 'is' : 'are'} not offered.`);
    const kept = fitting.slice(0, FORM_LIMITS.choices).map((c) => ({ value: c.value, ...(c.description !== undefined && { description: clip(c.description, FORM_LIMITS.description) }) }));
    const more = fitting.length - kept.length;
    if (more > 0) notes.push(`Showing the first ${kept.length} ${plural(what)}, and ${more.toLocaleString('en-US')} more: ${hint}`);
    return kept;
  };
  const other = 'choose Other… to type one of them.';
  const capped: Omit<FormOptions, 'notes'> = {
    awsProfiles: list(o.awsProfiles, 'profile', extra.aws, other),
    awsRegions: list(o.awsRegions, 'region', extra.aws, 'type one of them.'),
    gcpProjects: list(o.gcpProjects, 'project', extra.gcp, other),
    gcpRegions: list(o.gcpRegions, 'region', extra.gcp, 'type one of them.'),
    kubeContexts: list(o.kubeContexts, 'context', extra.kubernetes, other),
    eksClusters: list(o.eksClusters, 'EKS cluster', extra.aws, 'type its name under provider.cluster in the file.'),
    gkeClusters: list(o.gkeClusters, 'GKE cluster', extra.gcp, 'type it under provider.cluster in the file.'),
    branches: list(o.branches, 'branch', extra.git, other),
    suggested: { awsRegion: fitted(o.suggested.awsRegion), gcpRegion: fitted(o.suggested.gcpRegion) },
    productImages: o.productImages.slice(0, FORM_LIMITS.choices),
  };
  return {
    ...capped,
    notes: {
      aws: capNotes([...extra.aws, ...o.notes.aws]),
      gcp: capNotes([...extra.gcp, ...o.notes.gcp]),
      kubernetes: capNotes([...extra.kubernetes, ...o.notes.kubernetes]),
      git: capNotes([...extra.git, ...o.notes.git]),
    },
  };
}

/** At most FORM_LIMITS.notes notes, the last saying how many more there were; each note cut to one line's limit. */
export function capNotes(notes: readonly string[]): string[] {
  const shown = notes.length <= FORM_LIMITS.notes ? notes : notes.slice(0, FORM_LIMITS.notes - 1);
  const out = shown.map((n) => clip(n, FORM_LIMITS.line));
  const more = notes.length - shown.length;
  if (more > 0) out.push(`…and ${more.toLocaleString('en-US')} more notes like these.`);
  return out;
}

const fitted = (value: string) => (withinLength(value, FORM_LIMITS.text) ? value : '');
const plural = (what: string) => (what.endsWith('h') ? `${what}es` : `${what}s`);
const count = (n: number, what: string) => `${n.toLocaleString('en-US')} ${n === 1 ? what : plural(what)}`;

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
