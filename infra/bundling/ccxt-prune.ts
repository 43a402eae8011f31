/**
 * What a spot REST client never calls, left out of an exchange's ccxt class and ccxt's base
 * (PERF-3). Both run at every cold start of a live function: parsed, their classes defined, and
 * the exchange constructed, which walks every method of the class chain (ccxt copies each under
 * its snake_case name) and defines two methods per REST endpoint of `describe().api`.
 *
 * - `pruneApiFamilies`: Binance lists 822 endpoint names in 21 API families; a spot client calls
 *   a dozen, all in `public` and `private` (`/api/v3`). The other families (margin and wallet
 *   `sapi`, futures `fapi`/`dapi`, options `eapi`, portfolio margin `papi`) are removed from the
 *   `api` object, and every call the class still makes to one of their endpoints is rewritten to
 *   `unbundledEndpoint(name)`, which rejects with ccxt's `NotSupported` naming the endpoint. The
 *   names are derived as ccxt's `defineRestApiEndpoint` derives them, so no endpoint a kept family
 *   defines is ever rewritten.
 * - `pruneUnreachableMethods`: a method no call of ours can reach (by name, over the exchange and
 *   its base classes together, see there) is removed.
 *
 * Sources are parsed with TypeScript's parser (JavaScript mode). When the shape expected is not
 * found (a ccxt upgrade changed it) they throw, so the synth fails instead of bundling something
 * else.
 */
import ts from 'typescript';

/** HTTP method keys of an API family, as ccxt's `defineRestApi` recognises them. */
const HTTP_METHOD = /^(?:get|post|put|delete|head|patch)$/i;

/** What `pruneApiFamilies` did, for tests and the synth's checks. */
export interface PrunedApi {
  readonly code: string;
  /** The families removed from `describe().api`, in source order. */
  readonly removedFamilies: readonly string[];
  /** camelCase names of the endpoints the kept families define. */
  readonly keptEndpoints: ReadonlySet<string>;
  /** camelCase names of the endpoints removed. */
  readonly removedEndpoints: ReadonlySet<string>;
  /** The removed endpoints the class calls (each call now rejects with NotSupported). */
  readonly rewrittenCalls: readonly string[];
}

/** The name of the module-level helper the rewritten calls use. */
export const UNBUNDLED_ENDPOINT = 'unbundledEndpoint';

/**
 * Removes from `source` (an exchange class of ccxt's `js/src`, e.g. `binance.js`) every top-level
 * family of `describe().api` not in `keep`, and rewrites the class's calls of their endpoints.
 * `errorsImport` is the specifier of ccxt's `base/errors.js` as seen from the output file.
 * @throws Error when the class, its `describe()`, the `api` object or a kept family is not found.
 */
export function pruneApiFamilies(source: string, keep: readonly string[], errorsImport: string, file = 'exchange.js'): PrunedApi {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  const api = describeApiObject(sf, file);
  const families = api.properties.map((p) => ({ property: p, name: propertyName(p, file) }));
  const missing = keep.filter((k) => !families.some((f) => f.name === k));
  if (missing.length > 0) throw new Error(`ccxt-prune: ${file} has no API family ${missing.join(', ')} (did ccxt change?)`);

  const keptEndpoints = new Set<string>();
  const removedEndpoints = new Set<string>();
  for (const { property, name } of families) endpointNames(valueOf(property, file), [name], keep.includes(name) ? keptEndpoints : removedEndpoints, file);
  const onlyRemoved = (name: string) => removedEndpoints.has(name) && !keptEndpoints.has(name);

  const edits: { start: number; end: number; text: string }[] = [];
  const keptText = families.filter((f) => keep.includes(f.name)).map((f) => f.property.getText(sf));
  edits.push({ start: api.getStart(sf), end: api.getEnd(), text: `{ ${keptText.join(', ')} }` });
  const rewrittenCalls: string[] = [];
  const visit = (node: ts.Node): void => {
    if (node.pos >= api.getStart(sf) && node.end <= api.getEnd()) return;
    if (ts.isPropertyAccessExpression(node) && node.expression.kind === ts.SyntaxKind.ThisKeyword && onlyRemoved(node.name.text)) {
      edits.push({ start: node.getStart(sf), end: node.getEnd(), text: `${UNBUNDLED_ENDPOINT}(${JSON.stringify(node.name.text)})` });
      rewrittenCalls.push(node.name.text);
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);

  const code = applyEdits(source, edits);
  const helper =
    `import { NotSupported as UnbundledEndpointError } from ${JSON.stringify(errorsImport)};\n` +
    `const ${UNBUNDLED_ENDPOINT} = (name) => async () => { throw new UnbundledEndpointError(name + ' is not bundled: this function bundles the ${keep.join(', ')} REST API families only (infra/bundling/ccxt-prune.ts)'); };\n`;
  return {
    code: `${helper}${code}`,
    removedFamilies: families.filter((f) => !keep.includes(f.name)).map((f) => f.name),
    keptEndpoints,
    removedEndpoints,
    rewrittenCalls: [...new Set(rewrittenCalls)].sort(),
  };
}

/** The `api` object literal of `describe() { return this.deepExtend(super.describe(), { ... }) }` of the default-exported class. */
function describeApiObject(sf: ts.SourceFile, file: string): ts.ObjectLiteralExpression {
  const cls = sf.statements.find((s): s is ts.ClassDeclaration => ts.isClassDeclaration(s) && (ts.getCombinedModifierFlags(s) & ts.ModifierFlags.Default) !== 0);
  const describe = cls?.members.find((m): m is ts.MethodDeclaration => ts.isMethodDeclaration(m) && m.name.getText(sf) === 'describe');
  const ret = describe?.body?.statements.find(ts.isReturnStatement)?.expression;
  const description = ret && ts.isCallExpression(ret) ? ret.arguments[1] : undefined;
  const api = description && ts.isObjectLiteralExpression(description) ? description.properties.find((p) => propertyName(p, file) === 'api') : undefined;
  const value = api ? valueOf(api, file) : undefined;
  if (!value) throw new Error(`ccxt-prune: no describe().api object in ${file} (did ccxt change?)`);
  return value;
}

function propertyName(p: ts.ObjectLiteralElementLike, file: string): string {
  if (ts.isPropertyAssignment(p) && (ts.isStringLiteral(p.name) || ts.isIdentifier(p.name))) return p.name.text;
  throw new Error(`ccxt-prune: unexpected entry ${p.getText()} in ${file} (did ccxt change?)`);
}

function valueOf(p: ts.ObjectLiteralElementLike, file: string): ts.ObjectLiteralExpression {
  if (ts.isPropertyAssignment(p) && ts.isObjectLiteralExpression(p.initializer)) return p.initializer;
  throw new Error(`ccxt-prune: ${p.getText().slice(0, 80)} in ${file} is not an object literal (did ccxt change?)`);
}

/** Adds the camelCase endpoint names `family` defines, as ccxt's `defineRestApi`/`defineRestApiEndpoint` derive them. */
function endpointNames(family: ts.ObjectLiteralExpression, paths: readonly string[], into: Set<string>, file: string): void {
  for (const entry of family.properties) {
    const key = propertyName(entry, file);
    if (!ts.isPropertyAssignment(entry)) continue;
    const value = entry.initializer;
    if (!HTTP_METHOD.test(key) && !ts.isArrayLiteralExpression(value)) {
      endpointNames(valueOf(entry, file), [...paths, key], into, file);
      continue;
    }
    const method = capitalize(key.toLowerCase());
    const endpoints = ts.isArrayLiteralExpression(value)
      ? value.elements.map((e) => (ts.isStringLiteral(e) ? e.text : fail(`non-literal endpoint ${e.getText()}`, file)))
      : valueOf(entry, file).properties.map((e) => propertyName(e, file));
    for (const endpoint of endpoints) {
      const suffix = capitalize(endpoint.trim().split(/[^a-zA-Z0-9]/).map(capitalize).join(''));
      into.add(`${[paths[0], ...paths.slice(1).map(capitalize)].join('')}${method}${suffix}`);
    }
  }
}

function capitalize(s: string): string {
  return s.length ? s.charAt(0).toUpperCase() + s.slice(1) : s;
}

function fail(what: string, file: string): never {
  throw new Error(`ccxt-prune: ${what} in ${file} (did ccxt change?)`);
}

/** One source file whose classes take part in `pruneUnreachableMethods`. */
export interface PrunedFile {
  readonly source: string;
  /** For error messages. */
  readonly file: string;
  /** Classes whose methods are pruned: by name, or `default` for the default-exported class. */
  readonly classes: readonly string[];
}

/** What `pruneUnreachableMethods` did, per file in the order given. */
export interface PrunedMethods {
  readonly code: readonly string[];
  /** Methods removed, per file. */
  readonly removed: readonly (readonly string[])[];
  /** Every method name reached from the roots (in any of the files). */
  readonly reached: ReadonlySet<string>;
}

/**
 * Removes every method of the given classes that cannot be reached from `roots` or a constructor.
 * Reachability is by name, over all the classes together (an exchange and the base classes it
 * extends): a reached name reaches every name its bodies, in any class, mention as a property
 * (`this.x`, `super.x`, `other.x`) or as a string literal outside an object key (ccxt calls some
 * methods by name: `this[method]`, `fetchPaginatedCallDynamic('fetchMyTrades', ...)`). That
 * over-approximates what can be called; a name is removed from every class or from none, so a
 * removed override never lets a base implementation take its place. Calling a removed method
 * fails with "... is not a function". Accessors and static members are kept.
 */
export function pruneUnreachableMethods(files: readonly PrunedFile[], roots: Iterable<string>): PrunedMethods {
  const parsed = files.map((f) => {
    const sf = ts.createSourceFile(f.file, f.source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
    return { ...f, sf, methods: f.classes.map((name) => classMethods(name === 'default' ? defaultClass(sf, f.file) : classNamed(sf, name, f.file))) };
  });
  const all = new Map<string, ts.ClassElement[]>();
  for (const p of parsed) for (const methods of p.methods) for (const [name, members] of methods) all.set(name, [...(all.get(name) ?? []), ...members]);
  const names = new Set(all.keys());
  const reached = new Set<string>();
  const queue = [...roots, 'constructor'];
  while (queue.length > 0) {
    const name = queue.pop() as string;
    if (reached.has(name)) continue;
    reached.add(name);
    for (const member of all.get(name) ?? []) for (const ref of mentioned(member, names)) if (!reached.has(ref)) queue.push(ref);
  }
  const code: string[] = [];
  const removed: string[][] = [];
  for (const p of parsed) {
    const edits: { start: number; end: number; text: string }[] = [];
    const gone = new Set<string>();
    for (const methods of p.methods) {
      for (const [name, members] of methods) {
        if (reached.has(name)) continue;
        for (const m of members) {
          if (!ts.isMethodDeclaration(m) || m.modifiers?.some((x) => x.kind === ts.SyntaxKind.StaticKeyword)) continue;
          edits.push({ start: m.getFullStart(), end: m.getEnd(), text: '' });
          gone.add(name);
        }
      }
    }
    code.push(applyEdits(p.source, edits));
    removed.push([...gone].sort());
  }
  return { code, removed, reached };
}

function applyEdits(source: string, edits: readonly { start: number; end: number; text: string }[]): string {
  let code = source;
  for (const edit of [...edits].sort((a, b) => b.start - a.start)) code = code.slice(0, edit.start) + edit.text + code.slice(edit.end);
  return code;
}

function defaultClass(sf: ts.SourceFile, file: string): ts.ClassDeclaration {
  const cls = sf.statements.find((s): s is ts.ClassDeclaration => ts.isClassDeclaration(s) && (ts.getCombinedModifierFlags(s) & ts.ModifierFlags.Default) !== 0);
  return cls ?? fail('no default-exported class', file);
}

function classNamed(sf: ts.SourceFile, name: string, file: string): ts.ClassDeclaration {
  const cls = sf.statements.find((s): s is ts.ClassDeclaration => ts.isClassDeclaration(s) && s.name?.text === name);
  return cls ?? fail(`no class ${name}`, file);
}

/** Methods (and accessors) by name; the constructor under `constructor`. */
function classMethods(cls: ts.ClassDeclaration): Map<string, ts.ClassElement[]> {
  const methods = new Map<string, ts.ClassElement[]>();
  for (const m of cls.members) {
    let name: string | undefined;
    if (ts.isConstructorDeclaration(m)) name = 'constructor';
    else if ((ts.isMethodDeclaration(m) || ts.isGetAccessorDeclaration(m) || ts.isSetAccessorDeclaration(m)) && (ts.isIdentifier(m.name) || ts.isStringLiteral(m.name))) name = m.name.text;
    if (name === undefined) continue;
    methods.set(name, [...(methods.get(name) ?? []), m]);
  }
  return methods;
}

/** A string literal naming an object literal's property (`{ 'fetchTicker': true }`): a key, not a reference. */
function isPropertyKey(n: ts.Node): boolean {
  return ts.isPropertyAssignment(n.parent) && n.parent.name === n;
}

/** Names in `names` that `node` mentions as a property name or a string literal. */
function mentioned(node: ts.Node, names: ReadonlySet<string>): Set<string> {
  const found = new Set<string>();
  const visit = (n: ts.Node): void => {
    if (ts.isPropertyAccessExpression(n) && names.has(n.name.text)) found.add(n.name.text);
    else if ((ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) && names.has(n.text) && !isPropertyKey(n)) found.add(n.text);
    ts.forEachChild(n, visit);
  };
  visit(node);
  return found;
}

/**
 * Every name a source mentions as a property (`client.fetchOrder`, `this.#client.has`) or as a
 * string literal other than an object key, as `pruneUnreachableMethods` follows them: the roots
 * for code that calls ccxt.
 */
export function namesMentioned(source: string, file: string): Set<string> {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.ES2022, true, file.endsWith('.ts') ? ts.ScriptKind.TS : ts.ScriptKind.JS);
  const found = new Set<string>();
  const visit = (n: ts.Node): void => {
    if (ts.isPropertyAccessExpression(n) && ts.isIdentifier(n.name)) found.add(n.name.text);
    else if ((ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) && !isPropertyKey(n)) found.add(n.text);
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return found;
}
