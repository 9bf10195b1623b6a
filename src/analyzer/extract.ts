// Per-file extraction: recognises Encore resources the way Encore's parser does (direct named imports from the exact
// `encore.dev/...` paths, object-literal configs) and records the uses of names that may stand for resources.
// Syntax only, no type checker: that keeps a cold analysis of a large app well under a second.
import path from 'node:path';
import { ts } from 'ts-morph';
import type { Diagnostic, EndpointKind, EvictionPolicy, Range, Severity } from '../model/appModel';
import { isBuiltinPropertyName } from '../model/reservedNames';
import { emptyFacts, problemFacts, type FileFacts, type ImportFact, type MigrationSource, type Ref, type ResourceData, type ResourceFact, type UsageFact, type UsageKind } from './facts';
import {
  booleanLiteral, integerLiteral, objectLiteral, Problems, relativePath, stringArray, stringLiteral, unwrap,
} from './literals';
import { probe, type Probe } from './probes';
import { BINARY_FILE } from './sourceText';
import { builtinNameWarning, cronProblem, nameProblem, parseApiPath, parseDuration, routeShape } from './validate';

export { problemFacts } from './facts';

/** The specifiers Encore tracks, by module (a Map: module specifiers are app data, "constructor" included). */
const TRACKED = new Map<string, readonly string[]>([
  ['encore.dev/api', ['api', 'Gateway']],
  ['encore.dev/auth', ['authHandler']],
  ['encore.dev/service', ['Service']],
  ['encore.dev/storage/sqldb', ['SQLDatabase']],
  ['encore.dev/storage/objects', ['Bucket']],
  ['encore.dev/pubsub', ['Topic', 'Subscription']],
  ['encore.dev/cron', ['CronJob']],
  ['encore.dev/config', ['secret']],
  ['encore.dev/metrics', ['Counter', 'CounterGroup', 'Gauge', 'GaugeGroup']],
  ['encore.dev/storage/cache', [
    'CacheCluster', 'StringKeyspace', 'IntKeyspace', 'FloatKeyspace', 'StringListKeyspace', 'NumberListKeyspace',
    'StringSetKeyspace', 'NumberSetKeyspace', 'StructKeyspace',
  ]],
]);

/** How each kind of named declaration is called in messages (`.named()` references and keyspaces have no name). */
const NAMED_KINDS = new Map<ResourceData['kind'], string>([
  ['service', 'service'], ['api', 'endpoint'], ['authHandler', 'auth handler'], ['database', 'database'], ['topic', 'topic'],
  ['subscription', 'subscription'], ['cronJob', 'cron job'], ['cache', 'cache cluster'], ['bucket', 'bucket'],
  ['secret', 'secret'], ['metric', 'metric'],
]);

const KEYSPACES = new Set(TRACKED.get('encore.dev/storage/cache')!.filter((n) => n !== 'CacheCluster'));
const ALL_METHODS = ['GET', 'POST', 'PATCH', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE'];
const HTTP_METHODS = new Set([...ALL_METHODS, 'CONNECT']);
const EVICTION_POLICIES: EvictionPolicy[] = [
  'noeviction', 'allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'volatile-lru', 'volatile-lfu', 'volatile-ttl', 'volatile-random',
];
const DEFAULT_SUBSCRIPTION = { ackDeadlineMs: 30_000, messageRetentionMs: 7 * 24 * 3_600_000, minBackoffMs: 10_000, maxBackoffMs: 600_000, maxRetries: 100 };

/** Whether a file's text can hold anything the analysis needs; other files are skipped without parsing. */
export function mayMatter(file: string, text: string): boolean {
  return path.basename(file) === 'encore.service.ts' || text.includes('encore.dev') || /from\s*["']\.\.?\//.test(text);
}

/** The facts of one file from its text; `probes`, when given, receives what it read from the file system beside. */
export function extractFile(file: string, text: string, appRoot: string, probes: Probe[] = []): FileFacts {
  const facts = emptyFacts(file);
  // An editor's text can hold NUL characters too (a binary file opened as text).
  if (text.includes('\0')) return problemFacts(file, BINARY_FILE);
  const lines = lineStarts(text);
  try {
    // Every file of the walk is parsed for syntax errors, as Encore's build parses it; only the files that can hold
    // something the analysis needs are walked for resources (and need parent pointers for that).
    const matters = mayMatter(file, text);
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, matters, ts.ScriptKind.TS);
    facts.diagnostics.push(...syntaxDiagnostics(file, sf, lines));
    if (matters) new Extractor(sf, facts, appRoot, lines, probes).run();
  } catch (err) {
    // TypeScript's recursive-descent parser (and this walk) overflow the stack on absurdly deep nesting; tsc fails
    // on such a file too. Report it instead of taking the language server down.
    if (!(err instanceof RangeError)) throw err;
    return problemFacts(file, `this file could not be analysed: ${err.message} (is an expression nested thousands of levels deep?)`);
  }
  return facts;
}

/** Syntax errors reported per file before the rest are summed up (a binary-ish file can have thousands). */
const MAX_SYNTAX_ERRORS = 10;

/**
 * TypeScript's syntax errors for the file: the parser's own diagnostics, which parsing already computed (what
 * `program.getSyntacticDiagnostics` returns for a .ts file, without building a program or a type checker).
 */
function syntaxDiagnostics(file: string, sf: ts.SourceFile, lines: number[]): Diagnostic[] {
  const parsed = (sf as ts.SourceFile & { parseDiagnostics?: readonly ts.DiagnosticWithLocation[] }).parseDiagnostics ?? [];
  const out: Diagnostic[] = [];
  for (const d of parsed.slice(0, MAX_SYNTAX_ERRORS)) {
    const range = { start: positionAt(lines, d.start), end: positionAt(lines, d.start + d.length) };
    out.push({ file, severity: 'error', range, message: `syntax error: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')} (TS${d.code})` });
  }
  if (parsed.length > MAX_SYNTAX_ERRORS) {
    const next = positionAt(lines, parsed[MAX_SYNTAX_ERRORS].start);
    out.push({ file, severity: 'error', range: { start: next, end: next }, message: `and ${parsed.length - MAX_SYNTAX_ERRORS} more syntax errors in this file` });
  }
  return out;
}

/** Offsets where lines start, with LSP's line breaks only (\n, \r\n, \r); TypeScript also breaks at U+2028/9. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || (c === 13 && text.charCodeAt(i + 1) !== 10)) starts.push(i + 1);
  }
  return starts;
}

/** The LSP position of an offset, given the offsets where lines start. */
function positionAt(lines: number[], offset: number): { line: number; character: number } {
  let lo = 0;
  let hi = lines.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lines[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo, character: offset - lines[lo] };
}

/**
 * Where a node's first token starts, after comments and white space: Node.getStart(), which only the language
 * service's node classes have (the CLI's TypeScript is the parser alone, see esbuild.mjs). `scanner` skips trivia and
 * scans the node's file.
 */
export function tokenStart(scanner: ts.Scanner, node: ts.Node): number {
  // A missing node (the parser made it up after an error) has no token: it is where it is, as for getStart().
  if (node.pos === node.end) return node.pos;
  scanner.resetTokenState(node.pos);
  scanner.scan();
  return scanner.getTokenStart();
}

type Tracked = { module: string; name: string };

class Extractor {
  private readonly encore = new Map<string, Tracked>();
  private readonly topLevelNames = new Set<string>();
  private readonly problems = new Problems();
  private scanner: ts.Scanner | undefined;

  constructor(
    private readonly sf: ts.SourceFile,
    private readonly facts: FileFacts,
    private readonly appRoot: string,
    private readonly lines: number[],
    private readonly probes: Probe[],
  ) {}

  run(): void {
    this.readTopLevel();
    if (this.encore.size > 0 || this.facts.imports.size > 0 || this.topLevelNames.size > 0) this.visit(this.sf);
    const serviceCount = this.facts.resources.filter((r) => r.data.kind === 'service').length;
    if (this.facts.serviceFile && serviceCount === 0) {
      this.error({ start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, 'encore.service.ts must define a Service resource');
    }
    for (const p of this.problems.list) this.error(this.range(p.node), p.message);
    for (const fact of this.facts.resources) {
      const what = NAMED_KINDS.get(fact.data.kind);
      if (what && fact.name !== null && isBuiltinPropertyName(fact.name)) this.warning(fact.nameRange, builtinNameWarning(what, fact.name));
    }
  }

  private readTopLevel(): void {
    for (const stmt of this.sf.statements) {
      if (ts.isImportDeclaration(stmt) && ts.isStringLiteral(stmt.moduleSpecifier)) {
        const clause = stmt.importClause;
        if (!clause || clause.isTypeOnly) continue;
        const module = stmt.moduleSpecifier.text;
        const tracked = TRACKED.get(module);
        const relative = module.startsWith('./') || module.startsWith('../');
        if (clause.name && relative) this.facts.imports.set(clause.name.text, { specifier: module, imported: 'default' });
        const named = clause.namedBindings;
        if (named && ts.isNamedImports(named)) {
          for (const el of named.elements) {
            if (el.isTypeOnly) continue;
            const imported = (el.propertyName ?? el.name).text;
            if (tracked?.includes(imported)) this.encore.set(el.name.text, { module, name: imported });
            else if (relative) this.facts.imports.set(el.name.text, { specifier: module, imported } satisfies ImportFact);
          }
        }
      } else if (ts.isVariableStatement(stmt)) {
        for (const decl of stmt.declarationList.declarations) if (ts.isIdentifier(decl.name)) this.topLevelNames.add(decl.name.text);
      }
    }
  }

  private visit(node: ts.Node): void {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) return;
    if (ts.isNewExpression(node) && ts.isIdentifier(node.expression)) {
      const tracked = this.encore.get(node.expression.text);
      if (tracked) this.newResource(node, tracked.name);
    } else if (ts.isCallExpression(node)) {
      this.call(node);
    } else if (ts.isIdentifier(node)) {
      this.identifier(node);
    }
    ts.forEachChild(node, (child) => this.visit(child));
  }

  private call(node: ts.CallExpression): void {
    const callee = node.expression;
    if (ts.isIdentifier(callee)) {
      const tracked = this.encore.get(callee.text);
      if (tracked?.name === 'api') this.api(node, 'api');
      else if (tracked?.name === 'authHandler') this.authHandler(node);
      else if (tracked?.name === 'secret') this.secret(node);
    } else if (ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression)) {
      const tracked = this.encore.get(callee.expression.text);
      const member = callee.name.text;
      if (tracked?.name === 'api' && ['raw', 'streamIn', 'streamOut', 'streamInOut', 'static'].includes(member)) {
        this.api(node, member as EndpointKind);
      } else if (member === 'named' && tracked && ['SQLDatabase', 'Bucket', 'CacheCluster'].includes(tracked.name)) {
        const target = tracked.name === 'SQLDatabase' ? 'database' : tracked.name === 'Bucket' ? 'bucket' : 'cache';
        const name = this.nameArg(node, 0);
        this.add(node, { kind: 'named', target }, name.value, name.range);
      }
    }
  }

  // ---- resources -------------------------------------------------------------------------------------------------

  private newResource(node: ts.NewExpression, cls: string): void {
    if (!node.arguments) {
      this.error(this.range(node), 'missing constructor arguments');
      return;
    }
    switch (cls) {
      case 'Service':
        return this.service(node);
      case 'Gateway':
        return this.gateway(node);
      case 'SQLDatabase':
        return this.database(node);
      case 'Topic':
        return this.topic(node);
      case 'Subscription':
        return this.subscription(node);
      case 'CronJob':
        return this.cronJob(node);
      case 'CacheCluster':
        return this.cache(node);
      case 'Bucket':
        return this.bucket(node);
      case 'Counter':
      case 'CounterGroup':
      case 'Gauge':
      case 'GaugeGroup':
        return this.metric(node, cls);
      default:
        if (KEYSPACES.has(cls)) return this.keyspace(node, cls);
    }
  }

  private service(node: ts.NewExpression): void {
    const name = this.nameArg(node, 0);
    const args = node.arguments ?? [];
    if (args[1]) objectLiteral(args[1], ['middlewares'], [], this.problems);
    const fact = this.add(node, { kind: 'service' }, name.value, name.range);
    if (!this.facts.serviceFile) {
      this.error(fact.range, 'service declarations are only allowed in encore.service.ts');
    } else if (this.facts.resources.filter((r) => r.data.kind === 'service').length > 1) {
      this.error(fact.range, 'cannot have multiple service declarations in the same module');
    } else if (fact.bind !== null) {
      this.error(fact.range, 'service definitions should not be bound to a variable');
    } else if (!fact.defaultExport) {
      this.error(fact.range, 'service must be default export');
    }
  }

  private api(node: ts.CallExpression, endpointKind: EndpointKind): void {
    const args = node.arguments;
    const data: Extract<ResourceData, { kind: 'api' }> = {
      kind: 'api', endpointKind, methods: null, path: null, pathRange: null, routeShape: null, expose: false, auth: false,
    };
    const bind = bindOf(node);
    if (!args[0]) {
      this.error(this.range(node), 'API endpoint must have a config object as its first argument');
    } else {
      const allowed = endpointKind === 'static'
        ? ['dir', 'path', 'expose', 'auth', 'notFound', 'notFoundStatus', 'headers']
        : ['method', 'path', 'expose', 'auth', 'bodyLimit', 'tags', 'sensitive'];
      const cfg = objectLiteral(args[0], allowed, endpointKind === 'static' ? [] : [], this.problems);
      if (cfg) this.apiConfig(cfg.fields, data, endpointKind, cfg.node);
    }
    if (endpointKind !== 'static' && args[0]) {
      if (!args[1]) this.error(this.range(node), 'API endpoint must have a handler function as its second argument');
      else if (isFunction(args[1]) && args[1].typeParameters?.length) this.error(this.range(args[1]), 'endpoint handler cannot have type parameters');
    }
    if (endpointKind.startsWith('stream')) this.streamTypes(node, endpointKind);
    if (endpointKind === 'api' && args[0] && args[1]) this.requestSchema(node, data);
    if (endpointKind === 'static' || endpointKind.startsWith('stream')) data.methods = endpointKind === 'static' ? ['HEAD', 'GET'] : ['GET'];
    const fact = this.add(node, data, bind.name, this.range(node), bind);
    if ((fact.bind === null && !bind.invalidPattern) || (fact.bind !== null && !fact.exported)) {
      this.error(fact.range, 'API endpoint must be bound to an exported variable');
    }
    fact.name = fact.bind;
  }

  private apiConfig(fields: Map<string, ts.Expression>, data: Extract<ResourceData, { kind: 'api' }>, kind: EndpointKind, cfg: ts.Node): void {
    const method = fields.get('method');
    if (method && kind !== 'static' && !kind.startsWith('stream')) {
      const m = unwrap(method);
      const list = ts.isArrayLiteralExpression(m) ? stringArray(m, this.problems) : ts.isStringLiteral(m) ? [m.text] : null;
      if (list === null) {
        if (!ts.isArrayLiteralExpression(m)) this.error(this.range(method), 'invalid methods: must be string or array of strings');
      } else if (list.includes('*') && list.length > 1) {
        this.error(this.range(method), 'invalid methods: cannot mix * and other methods');
      } else if (list.includes('*')) {
        data.methods = [...ALL_METHODS];
      } else {
        const upper = list.map((x) => x.toUpperCase());
        const bad = upper.find((x) => !HTTP_METHODS.has(x));
        if (bad !== undefined || upper.length === 0) this.error(this.range(method), 'invalid method: invalid method');
        else data.methods = [...new Set(upper)];
      }
    }
    const p = fields.get('path');
    if (p) {
      const text = stringLiteral(p, this.problems);
      if (text !== null) {
        const parsed = parseApiPath(text);
        if ('error' in parsed) this.error(this.range(p), parsed.error);
        else {
          data.path = text;
          data.pathRange = this.range(p);
          data.routeShape = routeShape(parsed.segments);
          if (kind === 'static') this.staticPath(parsed.segments, p);
        }
      }
    }
    const expose = fields.get('expose');
    if (expose) data.expose = booleanLiteral(expose, this.problems) ?? false;
    const auth = fields.get('auth');
    if (auth) data.auth = booleanLiteral(auth, this.problems) ?? false;
    const bodyLimit = fields.get('bodyLimit');
    if (bodyLimit && unwrap(bodyLimit).kind !== ts.SyntaxKind.NullKeyword) integerLiteral(bodyLimit, this.problems);
    const tags = fields.get('tags');
    if (tags) stringArray(tags, this.problems);
    const sensitive = fields.get('sensitive');
    if (sensitive) booleanLiteral(sensitive, this.problems);
    if (kind === 'static') {
      const dir = fields.get('dir');
      if (!dir) this.error(this.range(cfg), "static assets must have the 'dir' field set");
      else this.staticDir(dir);
      const notFound = fields.get('notFound');
      if (notFound) {
        const rel = relativePath(notFound, this.problems);
        if (rel !== null && !this.fileExists(rel)) this.error(this.range(notFound), 'file does not exist');
      }
      const status = fields.get('notFoundStatus');
      if (status) integerLiteral(status, this.problems);
      const headers = fields.get('headers');
      if (headers) this.staticHeaders(headers);
    }
  }

  private staticPath(segments: { type: string }[], node: ts.Node): void {
    const dynamic = segments.filter((s) => s.type !== 'literal');
    if (dynamic.length > 1) this.error(this.range(node), 'static assets path cannot contain multiple dynamic segments');
    const firstDynamic = segments.findIndex((s) => s.type !== 'literal');
    if (firstDynamic >= 0 && segments.slice(firstDynamic).some((s) => s.type === 'literal')) {
      this.error(this.range(node), 'static assets path cannot have static segments after dynamic segments');
    }
  }

  private staticDir(node: ts.Expression): void {
    const rel = relativePath(node, this.problems);
    if (rel === null) return;
    const found = this.probe('directory', path.join(path.dirname(this.facts.file), rel));
    if (found !== 'directory') this.error(this.range(node), `unable to read static assets directory: ${found}`);
  }

  private staticHeaders(node: ts.Expression): void {
    const expr = unwrap(node);
    if (!ts.isObjectLiteralExpression(expr)) {
      this.problems.add(node, 'expected object literal');
      return;
    }
    for (const prop of expr.properties) {
      if (!ts.isPropertyAssignment(prop)) continue;
      const v = unwrap(prop.initializer);
      const ok = ts.isStringLiteral(v) || (ts.isArrayLiteralExpression(v) && v.elements.every((e) => ts.isStringLiteral(unwrap(e))));
      if (!ok) this.error(this.range(prop.initializer), 'header value must be a string or array of strings');
    }
  }

  private fileExists(rel: string): boolean {
    return this.probe('exists', path.join(path.dirname(this.facts.file), rel)) === 'yes';
  }

  private probe(kind: Probe['kind'], target: string): string {
    const found = probe(kind, target);
    this.probes.push({ kind, path: target, found });
    return found;
  }

  private streamTypes(node: ts.CallExpression, kind: EndpointKind): void {
    const count = node.typeArguments?.length ?? 0;
    const handler = node.arguments[1];
    const handshake = handler && isFunction(handler) && handler.parameters.length === 2;
    const expected = (kind === 'streamOut' ? 1 : kind === 'streamIn' ? 1 : 2) + (handshake ? 1 : 0);
    if (count === 0) {
      this.error(this.range(node), `missing type parameters in call to ${kind}`);
    } else if (count !== expected && !(kind === 'streamIn' && count === expected + 1)) {
      this.error(this.range(node), `wrong number of type parameters, expected ${expected}, found ${count}`);
    }
  }

  /** The request type must be declared when the path has parameters, and must hold each of them. */
  private requestSchema(node: ts.CallExpression, data: Extract<ResourceData, { kind: 'api' }>): void {
    const handler = node.arguments[1];
    const request = node.typeArguments?.[0] ?? (isFunction(handler) ? handler.parameters[0]?.type : undefined);
    if (request && isBasicType(request)) {
      this.error(this.range(request), 'request and response types must be interfaces or void');
      return;
    }
    const parsed = data.path !== null ? parseApiPath(data.path) : null;
    const params = parsed && 'segments' in parsed ? parsed.segments.filter((seg) => seg.type !== 'literal').map((seg) => seg.value) : [];
    if (params.length === 0) return;
    if (!request) {
      this.error(data.pathRange ?? this.range(node), 'request schema must be defined when having path parameters');
      return;
    }
    const fields = this.keyFields(request);
    if (!fields) return; // declared elsewhere: not checked without a type checker
    for (const param of params) {
      if (!fields.has(param)) this.error(data.pathRange ?? this.range(node), `path parameter not found in request schema: ${param}`);
    }
  }

  private authHandler(node: ts.CallExpression): void {
    const bind = bindOf(node);
    const fact = this.add(node, { kind: 'authHandler' }, bind.name, this.range(node), bind);
    fact.name = fact.bind;
    if (fact.bind === null && !bind.invalidPattern) this.error(fact.range, 'auth handler must be bound to a variable');
    const handler = node.arguments[0];
    if (!handler || !isFunction(handler)) {
      this.error(fact.range, 'auth handler must have a handler function as its first argument');
      return;
    }
    if (handler.typeParameters?.length) this.error(this.range(handler), 'auth handler cannot have type parameters');
    const typeArgs = node.typeArguments?.length ?? 0;
    if (typeArgs < 1 && !handler.parameters[0]?.type) this.error(this.range(handler), 'auth handler must have an explicitly defined parameter type');
    if (typeArgs < 2 && !handler.type) this.error(this.range(handler), 'auth handler must have an explicitly defined result type');
    const params = node.typeArguments?.[0] ?? handler.parameters[0]?.type;
    const fields = params ? this.keyFields(params) : null;
    for (const [, type] of fields ?? []) {
      const ok = ts.isTypeReferenceNode(type) && ts.isIdentifier(type.typeName) && ['Header', 'Query'].includes(type.typeName.text);
      if (!ok) this.error(this.range(type.parent), 'authHandler parameter type can only consist of Query and Header fields');
    }
  }

  private gateway(node: ts.NewExpression): void {
    const cfgNode = node.arguments?.[0];
    let authHandlerRef: Ref | null = null;
    if (!cfgNode) {
      this.error(this.range(node), 'missing config object');
    } else {
      const cfg = objectLiteral(cfgNode, ['authHandler'], [], this.problems);
      const h = cfg?.fields.get('authHandler');
      if (h) authHandlerRef = this.ref(h, 'cannot resolve auth handler');
    }
    const bind = bindOf(node);
    const fact = this.add(node, { kind: 'gateway', authHandlerRef }, 'api-gateway', this.range(node), bind);
    if ((fact.bind === null && !bind.invalidPattern) || (fact.bind !== null && !fact.exported)) {
      this.error(fact.range, 'gateway must be bound to an exported variable');
    }
  }

  private database(node: ts.NewExpression): void {
    const name = this.nameArg(node, 0);
    const data: Extract<ResourceData, { kind: 'database' }> = { kind: 'database', migrationsDir: null, migrationsRange: null, source: 'default' };
    const cfgNode = node.arguments?.[1];
    if (cfgNode) {
      const cfg = objectLiteral(cfgNode, ['migrations'], [], this.problems);
      const m = cfg?.fields.get('migrations');
      if (m) {
        let pathNode: ts.Expression | undefined = m;
        const mm = unwrap(m);
        if (ts.isObjectLiteralExpression(mm)) {
          const obj = objectLiteral(mm, ['path', 'source'], ['path'], this.problems);
          pathNode = obj?.fields.get('path');
          const source = obj?.fields.get('source');
          if (source) {
            const s = stringLiteral(source, this.problems);
            if (s !== null && !['prisma', 'drizzle', 'drizzle/v1'].includes(s)) {
              this.error(this.range(source), `unexpected value for migration file source: ${s}`);
            } else if (s !== null) data.source = s as MigrationSource;
          }
        }
        if (pathNode) {
          const rel = relativePath(pathNode, this.problems);
          if (rel !== null) {
            data.migrationsDir = toPosix(path.relative(this.appRoot, path.join(path.dirname(this.facts.file), rel)));
            data.migrationsRange = this.range(pathNode);
          }
        }
      }
    }
    this.add(node, data, name.value, name.range);
  }

  private topic(node: ts.NewExpression): void {
    const name = this.nameArg(node, 0);
    if (!node.typeArguments?.length) this.error(this.range(node), 'missing message type parameter');
    const data: Extract<ResourceData, { kind: 'topic' }> = { kind: 'topic', deliveryGuarantee: 'at-least-once', orderingAttribute: null };
    const cfgNode = node.arguments?.[1];
    if (!cfgNode) {
      this.error(this.range(node), 'missing required config object');
    } else {
      const cfg = objectLiteral(cfgNode, ['deliveryGuarantee', 'orderingAttribute'], [], this.problems);
      const dg = cfg?.fields.get('deliveryGuarantee');
      if (dg) {
        const v = stringLiteral(dg, this.problems);
        if (v === 'at-least-once' || v === 'exactly-once') data.deliveryGuarantee = v;
        else if (v !== null) this.error(this.range(dg), 'invalid delivery guarantee');
      }
      const oa = cfg?.fields.get('orderingAttribute');
      if (oa) data.orderingAttribute = stringLiteral(oa, this.problems);
    }
    const fact = this.add(node, data, name.value, name.range);
    this.kebabWarning(fact, 'topic');
  }

  private subscription(node: ts.NewExpression): void {
    const args = node.arguments ?? [];
    const topicRef = args[0] ? this.ref(args[0], 'cannot use this expression for PubSub topic reference') : null;
    if (!args[0]) this.error(this.range(node), 'cannot resolve topic reference');
    const name = this.nameArg(node, 1);
    const data: Extract<ResourceData, { kind: 'subscription' }> = { kind: 'subscription', topicRef, ...DEFAULT_SUBSCRIPTION, maxConcurrency: null };
    if (!args[2]) {
      this.error(this.range(node), 'field handler is required but is missing');
    } else {
      const cfg = objectLiteral(args[2], ['handler', 'maxConcurrency', 'ackDeadline', 'messageRetention', 'retryPolicy'], ['handler'], this.problems);
      if (cfg) {
        const f = cfg.fields;
        if (f.has('maxConcurrency')) data.maxConcurrency = integerLiteral(f.get('maxConcurrency')!, this.problems);
        if (f.has('ackDeadline')) data.ackDeadlineMs = this.duration(f.get('ackDeadline')!) ?? data.ackDeadlineMs;
        if (f.has('messageRetention')) data.messageRetentionMs = this.duration(f.get('messageRetention')!) ?? data.messageRetentionMs;
        const rp = f.get('retryPolicy');
        if (rp) {
          const r = objectLiteral(rp, ['minBackoff', 'maxBackoff', 'maxRetries'], [], this.problems);
          if (r?.fields.has('minBackoff')) data.minBackoffMs = this.duration(r.fields.get('minBackoff')!) ?? data.minBackoffMs;
          if (r?.fields.has('maxBackoff')) data.maxBackoffMs = this.duration(r.fields.get('maxBackoff')!) ?? data.maxBackoffMs;
          if (r?.fields.has('maxRetries')) data.maxRetries = integerLiteral(r.fields.get('maxRetries')!, this.problems) ?? data.maxRetries;
        }
      }
    }
    const fact = this.add(node, data, name.value, name.range);
    this.kebabWarning(fact, 'subscription');
  }

  private cronJob(node: ts.NewExpression): void {
    const name = this.nameArg(node, 0);
    const data: Extract<ResourceData, { kind: 'cronJob' }> = { kind: 'cronJob', title: null, schedule: null, endpointRef: null };
    const cfgNode = node.arguments?.[1];
    if (!cfgNode) {
      this.error(this.range(node), 'missing required config object');
    } else {
      const cfg = objectLiteral(cfgNode, ['title', 'endpoint', 'every', 'schedule'], ['endpoint'], this.problems);
      if (cfg) {
        const f = cfg.fields;
        if (f.has('title')) data.title = stringLiteral(f.get('title')!, this.problems);
        if (f.has('endpoint')) data.endpointRef = this.ref(f.get('endpoint')!, 'cannot resolve endpoint');
        const every = f.get('every');
        const schedule = f.get('schedule');
        if (every && schedule) this.error(this.range(cfg.node), 'expected either `every` or `schedule` to be set, not both');
        else if (!every && !schedule) this.error(this.range(cfg.node), 'expected either `every` or `schedule` to be set');
        else if (every) data.schedule = this.every(every);
        else if (schedule) {
          const expr = unwrap(schedule);
          if (!ts.isStringLiteral(expr)) this.error(this.range(schedule), 'expected cron expression');
          else {
            const problem = cronProblem(expr.text);
            if (problem) this.error(this.range(schedule), problem);
            else data.schedule = `schedule:${expr.text.trim().split(/\s+/).join(' ')}`;
          }
        }
      }
    }
    const fact = this.add(node, data, name.value, name.range);
    this.kebabWarning(fact, 'cron job');
  }

  private every(node: ts.Expression): string | null {
    const ms = this.duration(node);
    if (ms === null) return null;
    if (ms % 60_000 !== 0 || ms <= 0) {
      this.error(this.range(node), '`every` must be a multiple of 60 seconds');
      return null;
    }
    if (ms > 24 * 3_600_000) {
      this.error(this.range(node), '`every` must be at most 24 hours');
      return null;
    }
    const minutes = ms / 60_000;
    if ((24 * 60) % minutes !== 0) {
      this.warning(this.range(node), `\`every\` should divide 24 hours evenly: Encore's Go parser rejects ${minutes} minutes, and the schedule restarts at midnight`);
    }
    return `every:${minutes}`;
  }

  private cache(node: ts.NewExpression): void {
    const name = this.nameArg(node, 0);
    const data: Extract<ResourceData, { kind: 'cache' }> = { kind: 'cache', evictionPolicy: 'allkeys-lru' };
    const cfgNode = node.arguments?.[1];
    if (cfgNode) {
      const cfg = objectLiteral(cfgNode, ['evictionPolicy'], [], this.problems);
      const ep = cfg?.fields.get('evictionPolicy');
      if (ep) {
        const v = stringLiteral(ep, this.problems);
        if (v !== null && !EVICTION_POLICIES.includes(v as EvictionPolicy)) {
          this.error(this.range(ep), `invalid eviction policy: must be one of ${EVICTION_POLICIES.join(', ')}`);
        } else if (v !== null) data.evictionPolicy = v as EvictionPolicy;
      }
    }
    const fact = this.add(node, data, name.value, name.range);
    this.kebabWarning(fact, 'cache cluster');
  }

  private keyspace(node: ts.NewExpression, className: string): void {
    const args = node.arguments ?? [];
    const data: Extract<ResourceData, { kind: 'keyspace' }> = { kind: 'keyspace', className, keyPattern: null, clusterRef: null };
    if (args.length < 2) {
      this.error(this.range(node), 'keyspace constructor requires cluster and config arguments');
    } else {
      data.clusterRef = this.ref(args[0], 'could not resolve cache cluster reference');
      const cfg = objectLiteral(args[1], ['keyPattern', 'defaultExpiry'], ['keyPattern'], this.problems);
      const kp = cfg?.fields.get('keyPattern');
      if (kp) {
        data.keyPattern = stringLiteral(kp, this.problems);
        if (data.keyPattern !== null) this.keyPattern(node, data.keyPattern, kp);
      }
    }
    const keyType = node.typeArguments?.[0];
    if (!keyType) this.error(this.range(node), 'missing key type parameter');
    else if (keyType.kind === ts.SyntaxKind.AnyKeyword) this.error(this.range(keyType), "'any' is not supported as a cache key type");
    else if (keyType.kind === ts.SyntaxKind.UnknownKeyword) this.error(this.range(keyType), "'unknown' is not supported as a cache key type");
    if (className === 'StructKeyspace') {
      const valueType = node.typeArguments?.[1];
      if (valueType && !ts.isTypeLiteralNode(valueType) && !ts.isTypeReferenceNode(valueType)) {
        this.error(this.range(valueType), 'StructKeyspace value type must be an interface or object type');
      }
    }
    this.add(node, data, null, this.range(node));
  }

  private keyPattern(node: ts.NewExpression, pattern: string, patternNode: ts.Expression): void {
    if (pattern.startsWith('__encore')) this.error(this.range(patternNode), 'the prefix `__encore` is reserved for internal use by Encore');
    const params = pattern.split('/').filter((s) => s.startsWith(':')).map((s) => s.slice(1));
    const keyType = node.typeArguments?.[0];
    const fields = keyType ? this.keyFields(keyType) : null;
    if (fields === null) {
      if (keyType && isBasicType(keyType) && params.some((p) => p !== 'key')) {
        this.error(this.range(patternNode), "KeyPattern parameter must be named ':key' for basic (non-struct) key types");
      }
      return;
    }
    for (const [field, type] of fields) {
      if (!isBasicType(type)) this.error(this.range(type), `cache key field '${field}' must be a basic type (string, number, or boolean)`);
      if (!params.includes(field)) this.error(this.range(patternNode), `cache key field '${field}' is not used in the keyPattern`);
    }
    for (const p of params) {
      if (!fields.has(p)) this.error(this.range(patternNode), `keyPattern parameter '${p}' does not exist in the key type`);
    }
  }

  /** The fields of a struct key type written inline or as an interface/type alias in this file; null for other types. */
  private keyFields(type: ts.TypeNode): Map<string, ts.TypeNode> | null {
    let members: ts.NodeArray<ts.TypeElement> | undefined;
    if (ts.isTypeLiteralNode(type)) members = type.members;
    else if (ts.isTypeReferenceNode(type) && ts.isIdentifier(type.typeName)) {
      const name = type.typeName.text;
      for (const stmt of this.sf.statements) {
        if (ts.isInterfaceDeclaration(stmt) && stmt.name.text === name) members = stmt.members;
        if (ts.isTypeAliasDeclaration(stmt) && stmt.name.text === name && ts.isTypeLiteralNode(stmt.type)) members = stmt.type.members;
      }
    }
    if (!members) return null;
    const out = new Map<string, ts.TypeNode>();
    for (const m of members) {
      if (ts.isPropertySignature(m) && m.type && (ts.isIdentifier(m.name) || ts.isStringLiteral(m.name))) out.set(m.name.text, m.type);
    }
    return out;
  }

  private bucket(node: ts.NewExpression): void {
    const name = this.nameArg(node, 0);
    const data: Extract<ResourceData, { kind: 'bucket' }> = { kind: 'bucket', public: false, versioned: false };
    const cfgNode = node.arguments?.[1];
    if (cfgNode) {
      const cfg = objectLiteral(cfgNode, ['public', 'versioned'], [], this.problems);
      if (cfg?.fields.has('public')) data.public = booleanLiteral(cfg.fields.get('public')!, this.problems) ?? false;
      if (cfg?.fields.has('versioned')) data.versioned = booleanLiteral(cfg.fields.get('versioned')!, this.problems) ?? false;
    }
    const fact = this.add(node, data, name.value, name.range);
    if (fact.name !== null) {
      const problem = nameProblem(fact.name, 'kebab');
      if (problem) this.error(fact.nameRange, `invalid bucket name '${fact.name}': ${problem}`);
    }
  }

  private secret(node: ts.CallExpression): void {
    const arg = node.arguments[0];
    let name: string | null = null;
    if (node.arguments.length !== 1 || !ts.isStringLiteral(unwrap(arg))) {
      this.error(this.range(node), 'secret() takes a single argument, the name of the secret as a string literal');
    } else {
      name = (unwrap(arg) as ts.StringLiteral).text;
    }
    const bind = bindOf(node);
    const fact = this.add(node, { kind: 'secret' }, name, arg ? this.range(arg) : this.range(node), bind);
    if (insideFunction(node)) this.error(fact.range, 'secrets must be defined globally');
    // A destructuring pattern already got "expected identifier as bind name", Encore's only error for it.
    else if (fact.bind === null && !bind.invalidPattern) this.error(fact.range, 'secrets must be bound to a variable');
  }

  private metric(node: ts.NewExpression, cls: string): void {
    const name = this.nameArg(node, 0);
    const fact = this.add(node, { kind: 'metric', metricKind: cls.startsWith('Counter') ? 'counter' : 'gauge' }, name.value, name.range);
    if (fact.name !== null) {
      const problem = nameProblem(fact.name, 'snake');
      if (problem) this.error(fact.nameRange, `invalid metric name '${fact.name}': ${problem}`);
    }
    const cfgNode = node.arguments?.[1];
    if (cfgNode) objectLiteral(cfgNode, [], [], this.problems);
    const labels = cls.endsWith('Group') ? node.typeArguments?.[0] : undefined;
    if (labels) {
      const fields = this.keyFields(labels);
      for (const [key, type] of fields ?? []) {
        if (key === 'service') {
          this.error(this.range(type.parent), "invalid label name 'service': the label name 'service' is reserved and automatically added by the Encore runtime");
        } else if (!isLabelType(type)) {
          this.error(this.range(type), `invalid type for metric label '${key}': Labels must be string, number, or boolean (or unions thereof)`);
        }
      }
    }
  }

  // ---- helpers ---------------------------------------------------------------------------------------------------

  /** The resource-name argument: it must be a string literal. */
  private nameArg(node: ts.NewExpression | ts.CallExpression, index: number): { value: string | null; range: Range } {
    const arg = node.arguments?.[index];
    if (!arg) {
      this.error(this.range(node), `missing resource name as argument[${index}]`);
      return { value: null, range: this.range(node) };
    }
    return { value: stringLiteral(arg, this.problems), range: this.range(arg) };
  }

  private ref(node: ts.Expression, message: string): Ref | null {
    const expr = unwrap(node);
    if (ts.isIdentifier(expr)) return { local: expr.text, range: this.range(expr) };
    this.error(this.range(node), message);
    return null;
  }

  private duration(node: ts.Expression): number | null {
    const text = stringLiteral(node, this.problems);
    if (text === null) return null;
    const ms = parseDuration(text);
    if (ms === null) this.error(this.range(node), `invalid duration "${text}": expected e.g. "10s", "500ms", "1h30m"`);
    return ms;
  }

  private kebabWarning(fact: ResourceFact, what: string): void {
    if (fact.name === null) return;
    const problem = nameProblem(fact.name, 'kebab');
    if (problem) {
      this.warning(fact.nameRange, `${what} name '${fact.name}' is not kebab-case (${problem}): Encore's TypeScript parser accepts it, but its Go parser and some clouds reject it`);
    }
  }

  private add(
    node: ts.NewExpression | ts.CallExpression,
    data: ResourceData,
    name: string | null,
    nameRange: Range,
    bind: Bind = bindOf(node),
  ): ResourceFact {
    if (bind.invalidPattern) this.error(this.range(bind.invalidPattern), 'expected identifier as bind name');
    const fact: ResourceFact = {
      data,
      name,
      bind: bind.name,
      exported: bind.exported,
      defaultExport: bind.defaultExport,
      range: this.range(node),
      nameRange,
    };
    if (data.kind !== 'secret' && data.kind !== 'named' && data.kind !== 'api' && insideFunction(node)) {
      this.warning(fact.range, 'infrastructure must be declared at the top level of a module, not inside a function: Encore provisions it once per app');
    }
    this.facts.resources.push(fact);
    return fact;
  }

  private identifier(node: ts.Identifier): void {
    const name = node.text;
    if (!this.facts.imports.has(name) && !this.topLevelNames.has(name)) return;
    const parent = node.parent;
    // Declarations and property names are not uses.
    if (
      (ts.isVariableDeclaration(parent) && parent.name === node) ||
      (ts.isPropertyAccessExpression(parent) && parent.name === node) ||
      (ts.isPropertyAssignment(parent) && parent.name === node) ||
      ts.isBindingElement(parent) || ts.isParameter(parent) || ts.isFunctionDeclaration(parent) ||
      ts.isClassDeclaration(parent) || ts.isInterfaceDeclaration(parent) || ts.isTypeAliasDeclaration(parent) ||
      ts.isTypeReferenceNode(parent) || ts.isQualifiedName(parent) || ts.isExportSpecifier(parent) ||
      ts.isPropertySignature(parent) || ts.isMethodDeclaration(parent) || ts.isTypeQueryNode(parent) ||
      ts.isEnumDeclaration(parent) || ts.isEnumMember(parent) || ts.isLabeledStatement(parent)
    ) {
      return;
    }
    let kind: UsageKind = 'other';
    let member: string | null = null;
    let typeNames: string[] = [];
    let at: ts.Node = node;
    if (ts.isPropertyAccessExpression(parent) && parent.expression === node) {
      member = parent.name.text;
      const gp = parent.parent;
      at = parent;
      if (ts.isCallExpression(gp) && gp.expression === parent) {
        kind = 'method';
        at = gp;
        typeNames = (gp.typeArguments ?? []).flatMap(typeNamesOf);
      } else if (ts.isTaggedTemplateExpression(gp) && gp.tag === parent) {
        kind = 'template';
        at = gp;
      } else {
        kind = 'field';
      }
    } else if (ts.isTaggedTemplateExpression(parent) && parent.tag === node) {
      kind = 'template';
    } else if (ts.isCallExpression(parent)) {
      kind = parent.expression === node ? 'callee' : 'callArg';
    } else if (ts.isNewExpression(parent) && parent.expression !== node) {
      kind = 'ctorArg';
    } else if (ts.isShorthandPropertyAssignment(parent) || ts.isPropertyAssignment(parent)) {
      // A value in a config object passed to a call or constructor counts as that argument.
      const call = ts.isObjectLiteralExpression(parent.parent) ? parent.parent.parent : undefined;
      kind = call && ts.isCallExpression(call) ? 'callArg' : call && ts.isNewExpression(call) ? 'ctorArg' : 'other';
    }
    const usage: UsageFact = { local: name, kind, member, typeNames, range: this.range(at) };
    this.facts.usages.push(usage);
  }

  range(node: ts.Node): Range {
    return { start: this.position(this.tokenStart(node)), end: this.position(node.end) };
  }

  private tokenStart(node: ts.Node): number {
    this.scanner ??= ts.createScanner(ts.ScriptTarget.Latest, true, ts.LanguageVariant.Standard, this.sf.text);
    return tokenStart(this.scanner, node);
  }

  private position(offset: number): { line: number; character: number } {
    return positionAt(this.lines, offset);
  }

  private error(range: Range, message: string): void {
    this.report(range, message, 'error');
  }

  private warning(range: Range, message: string): void {
    this.report(range, message, 'warning');
  }

  private report(range: Range, message: string, severity: Severity): void {
    const d: Diagnostic = { file: this.facts.file, range, severity, message };
    this.facts.diagnostics.push(d);
  }
}

interface Bind {
  name: string | null;
  exported: boolean;
  defaultExport: boolean;
  invalidPattern?: ts.Node;
}

/**
 * The variable a resource expression is bound to, found as Encore's parser finds it (parseutil's bind-name lookup):
 * walking up from the call to the nearest enclosing variable declaration whose initializer holds it, so
 * `const dsn = secret("DSN")()`, `const keys = { a: secret("A") }` and `const c = new Client(secret("URL")())` all bind.
 * An `export default` met first makes it the default export; reaching the top of the file, anonymous. A declaration
 * with a destructuring pattern is Encore's "expected identifier as bind name"; a bind named `_` is anonymous.
 */
function bindOf(node: ts.Node): Bind {
  let child = node;
  for (let parent = node.parent; parent && !ts.isSourceFile(parent); child = parent, parent = parent.parent) {
    if (ts.isExportAssignment(parent)) return { name: null, exported: true, defaultExport: !parent.isExportEquals };
    if (ts.isVariableDeclaration(parent) && parent.initializer === child) {
      if (!ts.isIdentifier(parent.name)) return { name: null, exported: false, defaultExport: false, invalidPattern: parent.name };
      const statement = parent.parent.parent;
      const exported = ts.isVariableStatement(statement) && !!statement.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
      const name = parent.name.text === '_' ? null : parent.name.text;
      return { name, exported, defaultExport: false };
    }
  }
  return { name: null, exported: false, defaultExport: false };
}

function insideFunction(node: ts.Node): boolean {
  for (let p = node.parent; p; p = p.parent) {
    if (ts.isFunctionLike(p) || ts.isClassStaticBlockDeclaration(p)) return true;
  }
  return false;
}

function isFunction(node: ts.Node): node is ts.ArrowFunction | ts.FunctionExpression {
  return ts.isArrowFunction(node) || ts.isFunctionExpression(node);
}

function isBasicType(type: ts.TypeNode): boolean {
  return [ts.SyntaxKind.StringKeyword, ts.SyntaxKind.NumberKeyword, ts.SyntaxKind.BooleanKeyword, ts.SyntaxKind.BigIntKeyword].includes(type.kind);
}

function isLabelType(type: ts.TypeNode): boolean {
  if (isBasicType(type)) return true;
  if (ts.isLiteralTypeNode(type)) return true;
  if (ts.isUnionTypeNode(type)) return type.types.every(isLabelType);
  return false;
}

/** Names in a type argument such as `Uploader & Downloader` (for `bucket.ref<...>()` and `topic.ref<...>()`). */
function typeNamesOf(type: ts.TypeNode): string[] {
  if (ts.isTypeReferenceNode(type)) return [ts.isIdentifier(type.typeName) ? type.typeName.text : type.typeName.right.text];
  if (ts.isIntersectionTypeNode(type) || ts.isUnionTypeNode(type)) return type.types.flatMap(typeNamesOf);
  if (ts.isParenthesizedTypeNode(type)) return typeNamesOf(type.type);
  return [];
}

function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}
