/**
 * The app image an environment runs, as its recorded state says: the image of its Deployments when a deploy gave
 * them the app's own (one image for every service, as Encore builds it). The planner takes it as an input, so an
 * apply of infrastructure keeps what runs instead of going back to the placeholder.
 */

import type { EnvState } from '../model/state';

export function appImageOf(state: EnvState | null): string | null {
  for (const record of Object.values(state?.resources ?? {})) {
    const { providerType, settings } = record.resource;
    if (providerType === 'k8s/apps/v1/Deployment' && settings.placeholder === false && typeof settings.image === 'string') return settings.image;
  }
  return null;
}
