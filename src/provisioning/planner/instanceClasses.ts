/**
 * Sizing answers (vCPUs, GiB) to the instance classes each cloud sells. Each table lists the classes cheapest
 * first, and a size maps to the first class that has at least the requested vCPUs and memory, so an answer never
 * gets less than asked for. Only current general-purpose (m) and memory-optimised (r) families: Encore's defaults
 * come from them (db.m5.large, cache.m6g.large), and burstable classes do not belong in Production.
 */

interface Shape {
  name: string;
  vcpu: number;
  memoryGiB: number;
}

/** RDS for PostgreSQL; m5 and r5 interleaved by on-demand price. */
const RDS: Shape[] = [
  { name: 'db.m5.large', vcpu: 2, memoryGiB: 8 },
  { name: 'db.r5.large', vcpu: 2, memoryGiB: 16 },
  { name: 'db.m5.xlarge', vcpu: 4, memoryGiB: 16 },
  { name: 'db.r5.xlarge', vcpu: 4, memoryGiB: 32 },
  { name: 'db.m5.2xlarge', vcpu: 8, memoryGiB: 32 },
  { name: 'db.r5.2xlarge', vcpu: 8, memoryGiB: 64 },
  { name: 'db.m5.4xlarge', vcpu: 16, memoryGiB: 64 },
  { name: 'db.r5.4xlarge', vcpu: 16, memoryGiB: 128 },
  { name: 'db.m5.8xlarge', vcpu: 32, memoryGiB: 128 },
  { name: 'db.r5.8xlarge', vcpu: 32, memoryGiB: 256 },
  { name: 'db.m5.12xlarge', vcpu: 48, memoryGiB: 192 },
  { name: 'db.r5.12xlarge', vcpu: 48, memoryGiB: 384 },
  { name: 'db.m5.16xlarge', vcpu: 64, memoryGiB: 256 },
  { name: 'db.r5.16xlarge', vcpu: 64, memoryGiB: 512 },
];

/**
 * ElastiCache for Redis, by memory (the only cache question besides replicas). cache.m6g.xlarge (12.93 GiB) is
 * missing on purpose: cache.r6g.large has more memory for less money.
 */
const ELASTICACHE: Shape[] = [
  { name: 'cache.m6g.large', vcpu: 2, memoryGiB: 6.38 },
  { name: 'cache.r6g.large', vcpu: 2, memoryGiB: 13.07 },
  { name: 'cache.r6g.xlarge', vcpu: 4, memoryGiB: 26.32 },
  { name: 'cache.r6g.2xlarge', vcpu: 8, memoryGiB: 52.82 },
  { name: 'cache.r6g.4xlarge', vcpu: 16, memoryGiB: 105.81 },
  { name: 'cache.r6g.8xlarge', vcpu: 32, memoryGiB: 209.55 },
  { name: 'cache.r6g.12xlarge', vcpu: 48, memoryGiB: 317.77 },
];

function pick(table: Shape[], vcpu: number, memoryGiB: number): string {
  const fit = table.find((s) => s.vcpu >= vcpu && s.memoryGiB >= memoryGiB);
  // The sizing ranges stop at the largest class, so this only happens for a caller that skipped them.
  if (!fit) throw new Error(`no instance class has ${vcpu} vCPU and ${memoryGiB} GiB; the largest is ${table[table.length - 1].name}`);
  return fit.name;
}

export function rdsInstanceClass(cpu: number, memoryGiB: number): string {
  return pick(RDS, cpu, memoryGiB);
}

export function elastiCacheNodeType(memoryGiB: number): string {
  return pick(ELASTICACHE, 0, memoryGiB);
}

/**
 * Cloud SQL custom machine types, `db-custom-<vCPUs>-<MiB>`: 1 vCPU or an even number up to 96, memory a multiple
 * of 256 MiB between 0.9 and 6.5 GiB per vCPU and at least 3.75 GiB. Memory beyond 6.5 GiB per vCPU raises the
 * vCPUs rather than using extended memory, which costs more per GiB.
 */
export function cloudSqlTier(cpu: number, memoryGiB: number): string {
  let vcpu = cpu <= 1 ? 1 : Math.ceil(cpu / 2) * 2;
  let mib = Math.ceil((memoryGiB * 1024) / 256) * 256;
  while (mib > vcpu * 6.5 * 1024) vcpu = vcpu === 1 ? 2 : vcpu + 2;
  mib = Math.max(mib, 3840, Math.ceil((vcpu * 0.9 * 1024) / 256) * 256);
  return `db-custom-${vcpu}-${mib}`;
}

export interface MemorystoreShape {
  tier: 'BASIC' | 'STANDARD_HA';
  memorySizeGb: number;
  replicaCount: number;
  readReplicasMode: 'READ_REPLICAS_DISABLED' | 'READ_REPLICAS_ENABLED';
}

/**
 * Memorystore for Redis: whole GB from 1 to 300. No replica means the Basic tier; one or more means Standard (HA),
 * where the replicas serve reads and take over on failure. Read replicas need an instance of at least 5 GB, so a
 * smaller cache with replicas grows to 5 GB rather than silently losing them.
 */
export function memorystoreShape(memoryGiB: number, replicas: number): MemorystoreShape {
  const gb = Math.max(1, Math.ceil(memoryGiB));
  if (replicas === 0) return { tier: 'BASIC', memorySizeGb: gb, replicaCount: 0, readReplicasMode: 'READ_REPLICAS_DISABLED' };
  return { tier: 'STANDARD_HA', memorySizeGb: Math.max(gb, 5), replicaCount: replicas, readReplicasMode: 'READ_REPLICAS_ENABLED' };
}
