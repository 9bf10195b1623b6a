// TypeScript's parser without the rest of TypeScript, for the CLI (esbuild.mjs, issue 13). TypeScript ships as one
// CommonJS file whose top level declares everything (checker, emitter, language service, tsserver) and runs a few
// hundred statements that esbuild cannot drop (registrations of code fixes, namespaces built by calls). This keeps
// the top-level statements that the given exports reach, by name, and leaves the rest to esbuild's tree shaking:
// about a quarter of TypeScript, loaded in a third of the time.
//
// What it leaves out, on purpose:
// - the language service's node classes (setObjectAllocator(getServicesObjectAllocator())): nodes are the parser's
//   own objects, without getStart(), getText() and the other methods of services (eslint.config.mjs forbids them in
//   src/analyzer/, which this TypeScript serves), but with Identifier.text (TEXT_OF_IDENTIFIERS);
// - the language service's registrations, `sys` settings read from the environment (debug assertions, polling), and
//   the CommonJS export object.
// Any statement it does not recognise is kept. The build fails when TypeScript's file does not have the shape this
// expects, or when an export asked for is not there.
import { readFileSync } from 'node:fs';

const WRAPPER_START = 'var ts = {}; ((module) => {\n';
const WRAPPER_END = '})({ get exports()';
/** Calls at the top level that only the language service needs. */
const SERVICE_REGISTRATIONS = new Set(['registerRefactor', 'registerCodeFix', 'setObjectAllocator']);

/**
 * Identifier.text and PrivateIdentifier.text, which the analyzer reads, are getters of the language service's node
 * classes: the parser's own classes get them here, in classes of their own (the parser makes a PrivateIdentifier with
 * the class of every node, whose `text` other kinds set).
 */
const TEXT_OF_IDENTIFIERS = `
{
  const withText = (Base) => {
    function Named(kind, pos, end) { Base.call(this, kind, pos, end); }
    Named.prototype = Object.create(Base.prototype, { constructor: { value: Named, writable: true, configurable: true }, text: { get() { return idText(this); }, configurable: true } });
    return Named;
  };
  const identifier = withText(objectAllocator.getIdentifierConstructor());
  const privateIdentifier = withText(objectAllocator.getPrivateIdentifierConstructor());
  setObjectAllocator({ getIdentifierConstructor: () => identifier, getPrivateIdentifierConstructor: () => privateIdentifier });
}
`;
const TEXT_OF_IDENTIFIERS_USES = ['idText', 'objectAllocator', 'setObjectAllocator'];

/**
 * The ES module text of TypeScript's file `typescriptFile` cut down to `exportNames` (names of `ts.X` values; names
 * that are only types are ignored), exporting them as `ts`. `typescript` parses the file (any recent TypeScript).
 */
export function typescriptParserOnly(typescriptFile, exportNames, typescript) {
  const source = readFileSync(typescriptFile, 'utf8');
  const start = source.indexOf(WRAPPER_START);
  const end = source.lastIndexOf(WRAPPER_END);
  if (start < 0 || end < start) throw new Error(`${typescriptFile}: not the wrapper TypeScript's bundle had (${JSON.stringify(WRAPPER_START)})`);
  const body = source.slice(start + WRAPPER_START.length, end);
  const ts = typescript;
  const sf = ts.createSourceFile('typescript.js', body, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const statements = sf.statements;

  const exportsOf = new Map(); // export name -> local name
  const declaredBy = new Map(); // local name -> statement index
  const partOf = new Map(); // local name -> indexes of statements that build it (namespace bodies, static fields)
  const references = statements.map(() => new Set());
  const roots = [];
  const addPart = (name, i) => partOf.set(name, [...(partOf.get(name) ?? []), i]);

  statements.forEach((st, i) => {
    const collect = (node) => {
      if (ts.isIdentifier(node)) references[i].add(node.text);
      ts.forEachChild(node, collect);
    };
    if (ts.isFunctionDeclaration(st) || ts.isClassDeclaration(st)) {
      if (st.name) declaredBy.set(st.name.text, i);
      collect(st);
      return;
    }
    if (ts.isVariableStatement(st)) {
      for (const d of st.declarationList.declarations) if (ts.isIdentifier(d.name)) declaredBy.set(d.name.text, i);
      collect(st);
      return;
    }
    if (ts.isExpressionStatement(st)) {
      const e = st.expression;
      if (ts.isCallExpression(e) && ts.isIdentifier(e.expression)) {
        const callee = e.expression.text;
        const [first, second] = e.arguments;
        if (callee === '__export' && first && ts.isIdentifier(first) && first.text === 'typescript_exports') {
          for (const p of second.properties) exportsOf.set(p.name.text, p.initializer.body.text);
          return;
        }
        if (callee === '__export' && first && ts.isIdentifier(first)) {
          addPart(first.text, i);
          collect(st);
          return;
        }
        if (SERVICE_REGISTRATIONS.has(callee)) return;
      }
      // ((X2) => { ... })(X || (X = {})): the body of namespace X.
      if (ts.isCallExpression(e) && e.arguments.length === 1 && ts.isBinaryExpression(e.arguments[0]) && ts.isIdentifier(e.arguments[0].left)) {
        addPart(e.arguments[0].left.text, i);
        collect(st);
        return;
      }
      if (ts.isBinaryExpression(e) && e.operatorToken.kind === ts.SyntaxKind.EqualsToken) {
        const target = body.slice(e.left.getStart(sf), e.left.end);
        if (target === 'module.exports') return;
        let root = e.left;
        while (ts.isPropertyAccessExpression(root) || ts.isElementAccessExpression(root)) root = root.expression;
        // A static field set after its class, or a property of an object declared above.
        if (ts.isIdentifier(root)) {
          addPart(root.text, i);
          collect(st);
          return;
        }
      }
      // `0 && (module.exports = {...})`: esbuild's hint for Node's named exports.
      if (ts.isBinaryExpression(e) && e.left.kind === ts.SyntaxKind.NumericLiteral) return;
    }
    // Debug settings from the environment and the console; nothing the parser reads.
    if (ts.isIfStatement(st) && /^if \((sys && sys\.(getEnvironmentVariable|debugMode)|typeof console !== "undefined")\)/.test(body.slice(st.getStart(sf), st.end))) return;
    if (ts.isBlock(st) && st.statements.length === 0) return;
    roots.push(i);
    collect(st);
  });
  if (exportsOf.size === 0) throw new Error(`${typescriptFile}: TypeScript's export list (__export(typescript_exports, …)) was not found`);

  const exported = [...new Set(exportNames)].filter((n) => exportsOf.has(n)).sort();
  const keep = new Set();
  const queue = [...roots];
  const reached = new Set();
  const reach = (name) => {
    if (reached.has(name)) return;
    reached.add(name);
    if (declaredBy.has(name)) queue.push(declaredBy.get(name));
    queue.push(...(partOf.get(name) ?? []));
  };
  for (const name of exported) {
    const local = exportsOf.get(name);
    if (!declaredBy.has(local)) throw new Error(`${typescriptFile}: ts.${name} (${local}) is not declared at the top level`);
    reach(local);
  }
  for (const name of TEXT_OF_IDENTIFIERS_USES) {
    if (!declaredBy.has(name)) throw new Error(`${typescriptFile}: ${name} is not declared at the top level`);
    reach(name);
  }
  while (queue.length > 0) {
    const i = queue.pop();
    if (keep.has(i)) continue;
    keep.add(i);
    for (const name of references[i]) reach(name);
  }
  let contents = '';
  statements.forEach((st, i) => {
    if (keep.has(i)) contents += body.slice(st.pos, st.end);
  });
  contents += TEXT_OF_IDENTIFIERS;
  contents += `\nexport const ts = { ${exported.map((n) => `${n}: ${exportsOf.get(n)}`).join(', ')} };\n`;
  return { contents, exported, statements: statements.length, kept: keep.size };
}

/** The names `ts.X` that the given TypeScript sources use (types too; typescriptParserOnly ignores those). */
export function namesUsedAsTs(texts) {
  const names = new Set();
  for (const text of texts) for (const m of text.matchAll(/\bts\.([A-Za-z_$][\w$]*)/g)) names.add(m[1]);
  return [...names].sort();
}
