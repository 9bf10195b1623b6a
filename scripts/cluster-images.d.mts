// Types for cluster-images.mjs, which stays plain JavaScript so it runs without a build.

export const imagesDir: string;
export const MIRROR_PREFIX: 'mirror';
export interface ClusterImage {
  name: string;
  /** The reference the planner writes, or null for an image of the local cluster's own. */
  upstream: string | null;
  local?: string;
  description: string;
}
export const IMAGES: ClusterImage[];
export function localPath(image: ClusterImage): string;
/** "image the planner names → local image reference" for a registry on HOST:PORT. */
export function imageMapping(registry: string): Record<string, string>;
export function clusterImagesReady(): boolean;
export function buildClusterImages(options?: { only?: string[]; log?: (message: string) => void }): Promise<{ name: string; dir: string; built: boolean; layerBytes?: number; unpackedBytes?: number; version?: string }[]>;
export function pushClusterImages(options: { registry: string; crane: string; log?: (message: string) => void }): { name: string; ref: string; ms: number }[];
export function imagesDiskBytes(): number;
