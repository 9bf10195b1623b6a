// One set of limits for the environments file and the Create / Edit Environment webview: the published schema
// (schemas/encore.environments.schema.json, checked against these numbers by test/unit/environmentsSchema.test.ts),
// the store that validates with it, the message guards in messages.ts and the page. Every value the file may hold
// therefore fits in a message, and everything the host sends fits what the page accepts.

/**
 * The longest value of each setting in the environments file, in characters as JSON Schema's `maxLength` counts
 * them (Unicode code points). Chosen well above what the tools produce: DNS labels for names and namespaces, GCP's
 * 30-character project ids, git's 255-byte ref components, EKS context names (ARNs) and long SSO profile names.
 */
export const SETTING_MAX_LENGTH = {
  name: 63,
  branch: 255,
  region: 50,
  profile: 128,
  project: 30,
  context: 253,
  namespace: 63,
  /** EKS allows 100 characters in a cluster name, GKE 40. */
  eksCluster: 100,
  gkeCluster: 40,
} as const;

/** The longest resource name a sizing answer may be keyed by (databases, caches and services of the app). */
export const RESOURCE_NAME_MAX_LENGTH = 200;

/** At most this many resources per sizing group (databases, caches, services) in one environment. */
export const MAX_SIZED_RESOURCES = 500;

/** The answers a resource of each sizing group can have (databases: cpu, memoryGiB, diskGiB; …). */
export const SIZING_FIELDS_PER_GROUP = { databases: 3, caches: 2, services: 2 } as const;

/** The bounds of the webview messages, in both directions. */
export const FORM_LIMITS = {
  /**
   * A text field as typed. Larger than twice every setting's limit (a code point may take two UTF-16 units), so a
   * value the file holds always fits, and a value too long for the file is a problem beside its field, never a
   * dropped message. The page's inputs stop at this length.
   */
  text: 1_000,
  /** A sizing answer as typed ("2.5"). */
  sizingValue: 40,
  /** Per-image replacements of the image override (the schema's maxProperties of images.replace). */
  imageReplacements: 100,
  /** Every sizing answer of one environment at its largest. */
  sizingAnswers: MAX_SIZED_RESOURCES * (SIZING_FIELDS_PER_GROUP.databases + SIZING_FIELDS_PER_GROUP.caches + SIZING_FIELDS_PER_GROUP.services),
  /** Values offered per list (profiles, projects, contexts, branches, regions); the host says how many it left out. */
  choices: 500,
  /** A choice's description ("SSO · eu-west-1 · active"). */
  description: 300,
  /** Notes per provider (what was not found and why); the last one says how many more there were. */
  notes: 20,
  /** One note, problem or warning. */
  line: 2_000,
  /** Problems shown beside the fields, warnings in the preview. */
  problems: 200,
  warnings: 100,
  /** Groups in the preview, and resources per group; a last row says how many more there are. */
  previewGroups: 200,
  previewResources: 200,
  /** Lines of the cost estimate; a last line says how many more there are. */
  costLines: 500,
  /** A message in the form's banner (a failed save). */
  message: 4_000,
  /** A field id or a short label (the app's name, a codicon, a unit). */
  label: 1_000,
} as const;

/**
 * Whether `text` is at most `max` characters as JSON Schema counts them (code points, so an emoji is one). Cheap on
 * huge strings: more than twice as many UTF-16 units as allowed cannot fit, whatever they are.
 */
export function withinLength(text: string, max: number): boolean {
  if (text.length <= max) return true;
  if (text.length > 2 * max) return false;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    // A high surrogate followed by a low one is one code point.
    if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    if (++n > max) return false;
  }
  return true;
}

/** `text` cut to at most `max` code units, on a code point boundary, with "…" when something was cut. */
export function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  // Never split a surrogate pair: a lone half is not valid UTF-16 and shows as a replacement character.
  if (end > 0 && /[\ud800-\udbff]/.test(text[end - 1])) end--;
  return `${text.slice(0, end)}…`;
}
