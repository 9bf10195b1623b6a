/**
 * Features that are announced in the UI and the CLI but land with a later change. Commands that depend on them say so
 * plainly instead of pretending to work. Remove an entry in the change that implements it.
 */
export const upcoming = {
  provisioning: 'the provisioning engine (plan, apply and destroy)',
} as const;

export type UpcomingFeature = keyof typeof upcoming;

export function notYetAvailable(what: string, feature: UpcomingFeature): string {
  return `${what} is not available in this version yet. It arrives with ${upcoming[feature]}.`;
}
