/**
 * What is known about a region name without asking AWS: whether the SDK's partition table lists it, and whether it is
 * one of the regions an account has to enable before use ("opt-in"), so that an error can say "that region does not
 * exist" or "that region is not enabled for your account" instead of a DNS failure or an invalid-token message.
 */

/**
 * The opt-in regions: every commercial region launched after 20 March 2019 is disabled in an account until enabled
 * (AWS Account Management guide, "Enable or disable AWS Regions in your account"; the list as of 2026).
 */
const OPT_IN_REGIONS = new Set([
  'af-south-1', 'ap-east-1', 'ap-east-2', 'ap-south-2', 'ap-southeast-3', 'ap-southeast-4', 'ap-southeast-5',
  'ap-southeast-6', 'ap-southeast-7', 'ca-west-1', 'eu-central-2', 'eu-south-1', 'eu-south-2', 'il-central-1',
  'me-central-1', 'me-south-1', 'mx-central-1',
]);

export function isOptInRegion(region: string): boolean {
  return OPT_IN_REGIONS.has(region);
}

export interface RegionInfo {
  /** The SDK's partition table lists this exact region (with a description such as "Europe (Ireland)"). */
  known: boolean;
  description?: string;
  /** The DNS suffix of the partition the name falls into (amazonaws.com, amazonaws.com.cn…). */
  dnsSuffix: string;
}

/** Looks the region up in the partition table of the SDK (@aws-sdk/core), loaded on first use. */
export async function regionInfo(region: string): Promise<RegionInfo> {
  const { partition } = await import('@aws-sdk/core/client');
  const found = partition(region) as { dnsSuffix: string; description?: string };
  return { known: found.description !== undefined, description: found.description, dnsSuffix: found.dnsSuffix };
}
