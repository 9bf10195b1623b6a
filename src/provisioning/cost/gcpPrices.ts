/**
 * On-demand GCP prices for what an environment runs, per region, in US dollars, of the same kind as awsPrices.ts:
 * kept in the repository so a plan can show a cost with no network call; an estimate only: usage (Pub/Sub
 * throughput, Cloud Storage and Artifact Registry storage, data through Cloud NAT, egress) is not in it, free tiers
 * and committed-use or sustained-use discounts are not applied, and a price missing here is said to be unknown, never
 * guessed.
 *
 * Source and date: Google Cloud's public price pages (cloud.google.com/kubernetes-engine/pricing,
 * /compute/vm-instance-pricing, /compute/disks-image-pricing, /nat/pricing, /sql/pricing, /memorystore/docs/redis/pricing,
 * /secret-manager/pricing), on demand, as the author knew them in 2025-06. They were NOT fetched or re-checked on
 * the machine this table was written on (it has no access to Google's price list): the figures, europe-west1's most
 * of all, are from memory and unverified. Check them before relying on one, and update `takenAt` when you do.
 */

export interface GcpPriceTable {
  takenAt: string;
  source: string;
  /** Hours per month the estimate counts (Google's own convention, as AWS's). */
  hoursPerMonth: number;
  regions: Record<string, GcpRegionPrices>;
}

export interface GcpRegionPrices {
  /** GKE cluster management fee per cluster-hour (Standard and Autopilot; the one free zonal cluster is not applied). */
  gkeClusterHour: number;
  /** Compute Engine machine type → per hour. */
  machineHour: Record<string, number>;
  /** Balanced persistent disk per GB-month (a GKE node's boot disk, 100 GB by default). */
  pdBalancedGbMonth: number;
  /** Cloud NAT per VM-hour, for up to 32 VMs per gateway (data processed is usage, not counted). */
  natVmHour: number;
  /** An external IPv4 address in use by Cloud NAT, per hour. */
  natIpHour: number;
  /** Cloud SQL for PostgreSQL (Enterprise edition), custom machine types: zonal; regional (HA) is twice. */
  cloudSqlVcpuHour: number;
  cloudSqlMemoryGbHour: number;
  /** Cloud SQL SSD storage per GB-month, zonal; regional (HA) is twice. */
  cloudSqlSsdGbMonth: number;
  /** Memorystore for Redis per GB-hour of capacity by tier and capacity band (M1: 1–4 GB, M2: 5–10, M3: 11–35, M4: 36–100, M5: over 100). */
  memorystoreGbHour: Record<'BASIC' | 'STANDARD_HA', Partial<Record<'M1' | 'M2' | 'M3' | 'M4' | 'M5', number>>>;
  /** Secret Manager per active secret version per month (the first six free per billing account are not applied). */
  secretVersionMonth: number;
}

export const GCP_PRICES: GcpPriceTable = {
  takenAt: '2025-06',
  source: "Google Cloud's public price pages, as known to the author in 2025-06; from memory, not re-checked here",
  hoursPerMonth: 730,
  regions: {
    'us-central1': {
      gkeClusterHour: 0.1,
      machineHour: { 'e2-medium': 0.033503, 'e2-standard-2': 0.067006, 'e2-standard-4': 0.134012, 'n2-standard-2': 0.097118, 'n2-standard-4': 0.194236 },
      pdBalancedGbMonth: 0.1,
      natVmHour: 0.0014,
      natIpHour: 0.005,
      cloudSqlVcpuHour: 0.0413,
      cloudSqlMemoryGbHour: 0.007,
      cloudSqlSsdGbMonth: 0.17,
      memorystoreGbHour: {
        BASIC: { M1: 0.049, M2: 0.027, M3: 0.023, M4: 0.019, M5: 0.016 },
        STANDARD_HA: { M1: 0.064, M2: 0.054, M3: 0.046, M4: 0.038, M5: 0.032 },
      },
      secretVersionMonth: 0.06,
    },
    'europe-west1': {
      gkeClusterHour: 0.1,
      machineHour: { 'e2-medium': 0.036849, 'e2-standard-2': 0.073698, 'e2-standard-4': 0.147396, 'n2-standard-2': 0.106826, 'n2-standard-4': 0.213652 },
      pdBalancedGbMonth: 0.11,
      natVmHour: 0.0014,
      natIpHour: 0.005,
      cloudSqlVcpuHour: 0.0454,
      cloudSqlMemoryGbHour: 0.0077,
      cloudSqlSsdGbMonth: 0.187,
      memorystoreGbHour: {
        BASIC: { M1: 0.054, M2: 0.03, M3: 0.025, M4: 0.021 },
        STANDARD_HA: { M1: 0.07, M2: 0.059, M3: 0.051, M4: 0.042 },
      },
      secretVersionMonth: 0.06,
    },
  },
};

/** Memorystore's capacity band for a size in GB. */
export function memorystoreBand(gb: number): 'M1' | 'M2' | 'M3' | 'M4' | 'M5' {
  return gb <= 4 ? 'M1' : gb <= 10 ? 'M2' : gb <= 35 ? 'M3' : gb <= 100 ? 'M4' : 'M5';
}
