/**
 * Kubernetes resource quantities. The API server stores them in canonical form (`1024Mi` comes back as `1Gi`,
 * `0.5` as `500m`), so comparing what we applied with what we read needs their numeric value.
 */

const SUFFIX: Record<string, number> = {
  '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** The value of a quantity, or null when the text is not one. */
export function parseQuantity(text: string): number | null {
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?)$/.exec(text.trim());
  if (!m) return null;
  const n = Number(m[1]) * (m[2] ? Number(`1${m[2]}`) : 1);
  return n * (SUFFIX[m[3] ?? ''] ?? 1);
}

/** Equal as quantities (within rounding), e.g. `1024Mi` and `1Gi`, `0.5` and `500m`. */
export function sameQuantity(a: string, b: string): boolean {
  const x = parseQuantity(a);
  const y = parseQuantity(b);
  if (x === null || y === null) return false;
  return Math.abs(x - y) <= Math.max(Math.abs(x), Math.abs(y)) * 1e-9;
}
