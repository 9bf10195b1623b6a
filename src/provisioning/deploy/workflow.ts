/**
 * "Deploy on push": the GitHub Actions workflow `.github/workflows/encore-deploy-<env>.yml` for an environment whose
 * deploy trigger is a push to a branch. It deploys on a push to that branch and on a manual dispatch; it may only
 * mint an OIDC token and read the repository (`id-token: write`, `contents: read`, nothing else); one deploy per
 * environment runs at a time and a running one is never cancelled; it runs in the GitHub environment of the same
 * name (so production can require a reviewer); it gets cloud credentials by OIDC (AWS: assume the deploy role with
 * a web identity token; GCP: Workload Identity Federation as the deploy service account) or, for Kubernetes, a kubeconfig from a repository secret; installs the pinned Encore
 * version; and runs `encore-env deploy --env <env> --ci`, which writes the deploy record to the job summary (a
 * last step writes one when the job failed before the deploy began).
 *
 * Values from settings never reach a shell script directly: they are checked against strict patterns, and the
 * scripts read them from `env:`, so a crafted name cannot inject commands.
 */

export const ACTIONS = {
  checkout: 'actions/checkout@v6',
  setupNode: 'actions/setup-node@v6',
  awsCredentials: 'aws-actions/configure-aws-credentials@v6',
  googleAuth: 'google-github-actions/auth@v3',
} as const;

export type WorkflowCloud =
  | { kind: 'aws'; roleArn: string; region: string }
  | { kind: 'kubernetes'; kubeconfigSecret?: string }
  /** The Workload Identity Federation provider GitHub's OIDC token is exchanged at, and the service account it acts as. */
  | { kind: 'gcp'; workloadIdentityProvider: string; serviceAccount: string };

export interface WorkflowInput {
  /** The environment's name (also the GitHub environment's). */
  environment: string;
  /** The branch a push to which deploys. */
  branch: string;
  /** The app folder relative to the repository's top, `.` when it is the top. */
  appPath: string;
  /** The Encore CLI version installed, e.g. `1.58.6`. */
  encoreVersion: string;
  /** Node.js major version for the job (default 22). */
  nodeVersion?: string;
  cloud: WorkflowCloud;
}

export class WorkflowInputError extends Error {
  override readonly name = 'WorkflowInputError';
}

const ENV_NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const VERSION = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/;
const ROLE_ARN = /^arn:aws(?:-[a-z]+)*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const SECRET_NAME = /^[A-Z_][A-Z0-9_]*$/;
// IAM's rules: pool and provider ids 4–32 characters, a service account id 6–30 in a project id of 6–30.
const WIF_PROVIDER = /^projects\/\d{1,19}\/locations\/global\/workloadIdentityPools\/[a-z0-9-]{4,32}\/providers\/[a-z0-9-]{4,32}$/;
const SERVICE_ACCOUNT = /^[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z][a-z0-9-]{4,28}[a-z0-9]\.iam\.gserviceaccount\.com$/;

/** Where the workflow file goes, relative to the repository's top. */
export function workflowPath(environment: string): string {
  return `.github/workflows/encore-deploy-${environment}.yml`;
}

/** The repository secret a Kubernetes environment's kubeconfig is kept in, e.g. ENCORE_KUBECONFIG_STAGING. */
export function kubeconfigSecretName(environment: string): string {
  return `ENCORE_KUBECONFIG_${environment.toUpperCase().replace(/-/g, '_')}`;
}

/** Git's rules for a branch name (git check-ref-format --branch), the ones a settings value can break. */
function branchProblem(branch: string): string | undefined {
  if (!branch || branch.length > 255) return 'it is empty or too long';
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u0020\u007f~^:?*[\\]/.test(branch)) return 'it has a space, a control character or one of ~ ^ : ? * [ \\';
  if (branch.startsWith('-') || branch.startsWith('/') || branch.endsWith('/') || branch.endsWith('.') || branch.endsWith('.lock')) return 'it starts with - or /, or ends with /, . or .lock';
  if (branch.includes('..') || branch.includes('//') || branch.includes('@{') || branch === '@' || /(^|\/)\./.test(branch)) return 'it has .., //, @{ or a component starting with .';
  return undefined;
}

/** A branch name as a literal in `on.push.branches` (whose entries are glob patterns: `+` and `!` are special). */
function branchFilter(branch: string): string {
  return branch.replace(/[+!]/g, '\\$&');
}

function check(input: WorkflowInput): void {
  const fail = (what: string) => {
    throw new WorkflowInputError(`The deploy workflow cannot be written: ${what}.`);
  };
  if (!ENV_NAME.test(input.environment)) fail(`"${input.environment}" is not an environment name (lowercase letters, digits and -)`);
  const branch = branchProblem(input.branch);
  if (branch) fail(`"${input.branch}" is not a branch name: ${branch}`);
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (input.appPath !== '.' && (!input.appPath || input.appPath.startsWith('/') || input.appPath.split('/').some((p) => p === '..' || p === '' || p === '.') || /[\u0000-\u001f\\]/.test(input.appPath))) {
    fail(`the app folder "${input.appPath}" must be relative to the repository's top, with / between folders and no .. (use . for the top)`);
  }
  if (!VERSION.test(input.encoreVersion)) fail(`"${input.encoreVersion}" is not an Encore version such as 1.58.6`);
  if (input.nodeVersion !== undefined && !/^\d{2}$/.test(input.nodeVersion)) fail(`"${input.nodeVersion}" is not a Node.js major version such as 22`);
  if (input.cloud.kind === 'aws') {
    if (!ROLE_ARN.test(input.cloud.roleArn)) fail(`"${input.cloud.roleArn}" is not an IAM role ARN (arn:aws:iam::123456789012:role/name)`);
    if (!REGION.test(input.cloud.region)) fail(`"${input.cloud.region}" is not an AWS region such as eu-west-1`);
  } else if (input.cloud.kind === 'gcp') {
    if (!WIF_PROVIDER.test(input.cloud.workloadIdentityProvider)) {
      fail(`"${input.cloud.workloadIdentityProvider}" is not a Workload Identity Federation provider (projects/123456789012/locations/global/workloadIdentityPools/POOL/providers/PROVIDER)`);
    }
    if (!SERVICE_ACCOUNT.test(input.cloud.serviceAccount)) fail(`"${input.cloud.serviceAccount}" is not a service account email (NAME@PROJECT.iam.gserviceaccount.com)`);
  } else if (input.cloud.kubeconfigSecret !== undefined && !SECRET_NAME.test(input.cloud.kubeconfigSecret)) {
    fail(`"${input.cloud.kubeconfigSecret}" is not a GitHub secret name (uppercase letters, digits and _)`);
  }
}

type Step = Record<string, unknown>;

/**
 * The workflow file's text. Rejects with a WorkflowInputError when an input is not safe to write. Async because yaml
 * is imported on first use: a bundle then keeps it in a chunk of its own, out of the extension's start (issue 13).
 */
export async function deployWorkflow(input: WorkflowInput): Promise<string> {
  check(input);
  const env = input.environment;
  const inApp = input.appPath === '.' ? {} : { 'working-directory': input.appPath };
  const lockfile = input.appPath === '.' ? 'package-lock.json' : `${input.appPath}/package-lock.json`;
  const steps: Step[] = [
    { name: 'Check out', uses: ACTIONS.checkout, with: { 'persist-credentials': false } },
    { name: 'Set up Node.js', uses: ACTIONS.setupNode, with: { 'node-version': input.nodeVersion ?? '22', cache: 'npm', 'cache-dependency-path': lockfile } },
    { name: 'Install the app\'s dependencies', run: 'npm ci', ...inApp },
  ];
  if (input.cloud.kind === 'aws') {
    steps.push({
      name: 'Get AWS credentials (OIDC)',
      uses: ACTIONS.awsCredentials,
      with: { 'role-to-assume': input.cloud.roleArn, 'aws-region': input.cloud.region, 'role-session-name': `encore-deploy-${env}` },
    });
  } else if (input.cloud.kind === 'gcp') {
    // The action exchanges the job's OIDC token for the service account's credentials and points
    // GOOGLE_APPLICATION_CREDENTIALS at an external-account file: Application Default Credentials for encore-env.
    steps.push({
      name: 'Get Google Cloud credentials (Workload Identity Federation)',
      uses: ACTIONS.googleAuth,
      with: { workload_identity_provider: input.cloud.workloadIdentityProvider, service_account: input.cloud.serviceAccount },
    });
  } else {
    const secret = input.cloud.kubeconfigSecret ?? kubeconfigSecretName(env);
    steps.push({
      name: 'Write the kubeconfig from the repository secret',
      env: { KUBECONFIG_CONTENT: `\${{ secrets.${secret} }}` },
      run: [
        'if [ -z "$KUBECONFIG_CONTENT" ]; then',
        `  echo "::error::The repository secret ${secret} is empty or missing: run \\"encore-env setup-ci --env ${env}\\" and store the kubeconfig it prints as that secret."`,
        '  exit 1',
        'fi',
        'umask 077',
        'mkdir -p "$RUNNER_TEMP/kube"',
        'printf \'%s\' "$KUBECONFIG_CONTENT" > "$RUNNER_TEMP/kube/config"',
        'echo "KUBECONFIG=$RUNNER_TEMP/kube/config" >> "$GITHUB_ENV"',
        '',
      ].join('\n'),
    });
  }
  steps.push(
    {
      name: `Install Encore ${input.encoreVersion}`,
      env: { ENCORE_VERSION: input.encoreVersion },
      run: [
        'curl -fsSL https://encore.dev/install.sh | bash -s -- "v$ENCORE_VERSION"',
        'echo "$HOME/.encore/bin" >> "$GITHUB_PATH"',
        // The pin is checked, not assumed: a different version fails the job before anything is built.
        'installed="$("$HOME/.encore/bin/encore" version)"',
        'case "$installed" in',
        '  *"v$ENCORE_VERSION"*) echo "$installed" ;;',
        '  *) echo "::error::Expected Encore v$ENCORE_VERSION, the installer gave: $installed"; exit 1 ;;',
        'esac',
        '',
      ].join('\n'),
    },
    // --no-install: only the app's own encore-env (its devDependency) runs; npx never fetches a package by that name.
    { name: `Deploy ${env}`, id: 'deploy', run: `npx --no-install encore-env deploy --env ${env} --ci`, ...inApp },
    {
      // The deploy step writes the record to the summary itself; this covers a job that failed before it ran.
      name: 'Job summary',
      if: "failure() && steps.deploy.outcome != 'failure'",
      env: { ENVIRONMENT: env },
      run: 'echo "### Deploy of $ENVIRONMENT did not start: a step before it failed (see its log)" >> "$GITHUB_STEP_SUMMARY"\n',
    },
  );
  const workflow = {
    name: `Deploy ${env} (Encore)`,
    on: { push: { branches: [branchFilter(input.branch)] }, workflow_dispatch: {} },
    permissions: { 'id-token': 'write', contents: 'read' },
    concurrency: { group: `encore-deploy-${env}`, 'cancel-in-progress': false },
    jobs: {
      deploy: {
        name: `Deploy to ${env}`,
        'runs-on': 'ubuntu-latest',
        environment: env,
        'timeout-minutes': 60,
        steps,
      },
    },
  };
  const { Document } = await import('yaml');
  const doc = new Document(workflow);
  doc.commentBefore = [
    ` Deploys the Encore app to the environment "${env}" on every push to ${input.branch}, and on demand (Run workflow).`,
    ' Written by Environments for Encore ("Set Up Deploy on Push…"); running that again rewrites this file.',
    ` encore-env deploy --ci writes the deploy record to the job summary.`,
  ].join('\n');
  return doc.toString({ lineWidth: 0 });
}
