/**
 * A metav1.MicroTime as kube-apiserver parses it: RFC 3339 with exactly six fractional digits. A JS Date has
 * milliseconds, and client-node 1.4 sends them with three digits, which the server refuses for Lease times
 * (test/integration/kubeServer.test.ts shows the 400). We write the string ourselves.
 */
export function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** Milliseconds since the epoch of a MicroTime (or any RFC 3339 time), NaN when it does not parse. */
export function parseMicroTime(text: string | undefined): number {
  return text ? Date.parse(text) : NaN;
}
