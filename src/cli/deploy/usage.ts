// The deploy commands' lines of the CLI's usage, apart from the commands themselves so that --help loads neither
// the session nor the providers.
import { MIN_ENCORE_VERSION } from '../../session/encoreMinimum';

export const DEPLOY_USAGE = `  encore-env deploy --env NAME [--revision REV] [--ci] [--json] [--rollout-timeout SECONDS] [DIR]
                                   Build the checked-out revision with your Encore CLI (encore build docker
                                   --skip-config --push, at least v${MIN_ENCORE_VERSION}), push it to the registry in the
                                   environment's settings, roll the Deployments out to its digest and record the deploy.
                                   Changes no infrastructure: when the last apply was for another app model it says
                                   "apply first" and the differences. --ci: no prompts, JSON progress lines on stdout,
                                   a summary in $GITHUB_STEP_SUMMARY when set.
  encore-env deploys --env NAME [--json] [DIR]
                                   The environment's deploy history, newest first; * marks what runs now.
  encore-env rollback --env NAME --to DEPLOY_ID [--ci] [--json] [DIR]
                                   Roll out an earlier succeeded deploy's image again (checked in the registry, no
                                   build); recorded as a new deploy that names the one it restores.
  encore-env promote --from A --to B [--ci] [--json] [DIR]
                                   Roll out the image environment A runs to environment B (same registry, no build).
  encore-env setup-ci --env NAME [--encore-version X.Y.Z] [--force] [--print-kubeconfig] [DIR]
                                   Write .github/workflows/encore-deploy-NAME.yml: deploy on push to the environment's
                                   branch (and on manual dispatch), with encore-env deploy --ci.
`;

export const DEPLOY_EXIT_CODES = `Exit codes of deploy, rollback and promote: 0 deployed, 1 the build, the push or the rollout failed (the record
says which service and why), 2 usage error (also: no such deploy id), 3 deploying is not available for the
environment's provider in this version, 5 the environment is locked by another apply, destroy or deploy, 7 apply
first (never applied, or applied for another app model), 8 a preflight failed (no encore CLI or too old, no git
commit, no registry setting, registry credentials unusable), 130 cancelled.
`;
