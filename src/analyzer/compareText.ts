// The order of names and paths in the model: exactly `a.localeCompare(b)`, without its cost for the ASCII names and
// paths whose collation order is known. The first localeCompare of a process sets up ICU's collator (5–20 ms here),
// which a CLI run that only re-links the app otherwise pays (issue 13).

/**
 * Characters that the root and English collations give one collation element each, by their primary weights' order
 * (not that of code units: '_'); an uppercase letter weighs as its lowercase one there, and only its case (tertiary
 * weight, lowercase first) tells them apart.
 */
const PLAIN_ORDER = ' _-,:./0123456789abcdefghijklmnopqrstuvwxyz';
const RANK = new Int8Array(128).fill(-1);
for (let i = 0; i < PLAIN_ORDER.length; i++) {
  RANK[PLAIN_ORDER.charCodeAt(i)] = i;
  RANK[PLAIN_ORDER.toUpperCase().charCodeAt(i)] = i;
}

function isPlain(s: string, from: number): boolean {
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || RANK[c] < 0) return false;
  }
  return true;
}

/**
 * Whether the process's default collation is root or English (ICU takes the locale from LC_ALL, LC_MESSAGES, then
 * LANG on Linux; "C" and "POSIX" are en-US-POSIX): elsewhere, or for any other locale, compareText is localeCompare.
 */
export function plainOrderHolds(env: NodeJS.ProcessEnv = process.env, platform: string = process.platform): boolean {
  if (platform !== 'linux') return false;
  const locale = env.LC_ALL || env.LC_MESSAGES || env.LANG || '';
  return /^(|C|POSIX|C\.[^@]*|en([_.@-].*)?)$/.test(locale);
}

let plainOrder: boolean | undefined;

/**
 * `a.localeCompare(b)`. Where the two differ only after a common prefix that ends with '/' (or from the start), and
 * what follows it in both is ASCII letters, digits, space, '_', '-', ',', ':', '.' and '/', the collation's order is that of those
 * characters' weights: the prefix gives both the same collation elements, and no contraction starts at '/'.
 */
export function compareText(a: string, b: string): number {
  if (a === b) return 0;
  plainOrder ??= plainOrderHolds();
  if (plainOrder) {
    const n = Math.min(a.length, b.length);
    let i = 0;
    while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
    const from = i === 0 ? 0 : a.lastIndexOf('/', i - 1) + 1;
    if (isPlain(a, from) && isPlain(b, from)) {
      for (let j = i; j < n; j++) {
        const d = RANK[a.charCodeAt(j)] - RANK[b.charCodeAt(j)];
        if (d !== 0) return d;
      }
      if (a.length !== b.length) return a.length - b.length;
      // The same letters: the first difference of case decides, lowercase first.
      const c = a.charCodeAt(i);
      return c >= 97 ? -1 : 1;
    }
  }
  return a.localeCompare(b);
}
