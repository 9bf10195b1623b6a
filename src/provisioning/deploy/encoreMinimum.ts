// The minimum Encore CLI version alone, without the module that runs the CLI (node:child_process): the CLI's usage
// text names it, and --help loads nothing it does not need.

/**
 * The oldest Encore CLI a deploy accepts. Why this one: Encore releases the CLI and the encore.dev SDK together
 * with one version number, and an app is built by a CLI at least as new as the SDK it uses; the apps this extension
 * targets (the sample app and the template it creates) depend on encore.dev ^1.50.0, and that release line has every
 * part a deploy relies on: `build docker --push` with no Docker daemon, `--skip-config`, `--base`, and the
 * self-hosted infra config read from ENCORE_INFRA_CONFIG_PATH at start.
 */
export const MIN_ENCORE_VERSION = '1.50.0';
