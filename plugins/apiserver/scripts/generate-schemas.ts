// SPDX-License-Identifier: Apache-2.0
/**
 * Generates the OpenAPI v3 component schemas of the built-in kinds from the `kubernetes-types`
 * package: its .d.ts files are generated from upstream's OpenAPI and keep every field's upstream
 * description as a doc comment, so reading them with the TypeScript compiler API gives the same
 * shapes and documentation without typing any schema by hand. Patch extensions
 * (`x-kubernetes-patch-strategy` / `-merge-key`) come from this package's own strategic-merge table.
 *
 * Run from the repository root: `node --import tsx plugins/apiserver/scripts/generate-schemas.ts`
 * (after upgrading kubernetes-types or changing the patch table). `src/schema/schemas.test.ts` fails
 * when the committed output is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { patchSchemaFor } from '../src/patch/patch-schema.js';
import type { OpenApiSchema } from '../src/schema/types.js';

const require = createRequire(import.meta.url);

/** The directory of the installed kubernetes-types package. */
export function kubernetesTypesDir(): string {
  return dirname(require.resolve('kubernetes-types/package.json'));
}

/** Upstream's definition-name prefix for each kubernetes-types directory (Go package path, reversed). */
function packagePrefix(dir: string): string {
  switch (dir) {
    case 'meta':
      return 'io.k8s.apimachinery.pkg.apis.meta';
    case 'apiextensions':
      return 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions';
    default:
      return `io.k8s.api.${dir}`;
  }
}

const intOrStringName = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';

/** Only stable API versions are served; alpha and beta files are skipped. */
function isStableVersion(file: string): boolean {
  return /^v\d+\.d\.ts$/.test(file);
}

interface Context {
  checker: ts.TypeChecker;
  /** Declaration → upstream definition name. */
  names: Map<ts.Declaration, string>;
}

function docOf(node: ts.Node): string | undefined {
  const docs = ts.getJSDocCommentsAndTags(node).filter(ts.isJSDoc);
  const text = docs
    .map((doc) => (typeof doc.comment === 'string' ? doc.comment : ts.getTextOfJSDocComment(doc.comment)))
    .filter((t): t is string => !!t)
    .join('\n');
  return text === '' ? undefined : text;
}

function declarationOf(ctx: Context, name: ts.EntityName): ts.Declaration | undefined {
  let symbol = ctx.checker.getSymbolAtLocation(name);
  if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = ctx.checker.getAliasedSymbol(symbol);
  return symbol?.declarations?.[0];
}

/** The schema of a type written in a .d.ts (a property's type or a type alias's right side). */
function schemaOfType(ctx: Context, node: ts.TypeNode): OpenApiSchema {
  switch (node.kind) {
    case ts.SyntaxKind.StringKeyword:
      return { type: 'string' };
    case ts.SyntaxKind.NumberKeyword:
      // kubernetes-types writes every int32/int64 as number; the built-in APIs use no floats.
      return { type: 'integer' };
    case ts.SyntaxKind.BooleanKeyword:
      return { type: 'boolean' };
  }
  if (ts.isLiteralTypeNode(node)) return { type: 'string' };
  if (ts.isParenthesizedTypeNode(node)) return schemaOfType(ctx, node.type);
  if (ts.isArrayTypeNode(node)) return { type: 'array', items: schemaOfType(ctx, node.elementType) };
  if (ts.isUnionTypeNode(node)) {
    const kinds = node.types.map((t) => t.kind).sort();
    if (
      kinds.length === 2 &&
      kinds.includes(ts.SyntaxKind.NumberKeyword) &&
      kinds.includes(ts.SyntaxKind.StringKeyword)
    ) {
      return { allOf: [{ $ref: `#/components/schemas/${intOrStringName}` }] };
    }
    return { 'x-kubernetes-preserve-unknown-fields': true };
  }
  if (ts.isTypeLiteralNode(node)) {
    const index = node.members.find(ts.isIndexSignatureDeclaration);
    if (index) return { type: 'object', additionalProperties: schemaOfType(ctx, index.type) };
    return { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  }
  if (ts.isTypeReferenceNode(node)) {
    const simple = ts.isIdentifier(node.typeName) ? node.typeName.text : '';
    if (simple === 'Array' && node.typeArguments?.length === 1) {
      return { type: 'array', items: schemaOfType(ctx, node.typeArguments[0]!) };
    }
    const declaration = declarationOf(ctx, node.typeName);
    const name = declaration && ctx.names.get(declaration);
    if (!name) throw new Error(`unresolved type ${node.getText()} in ${node.getSourceFile().fileName}`);
    return { allOf: [{ $ref: `#/components/schemas/${name}` }] };
  }
  throw new Error(`unsupported type ${node.getText()} in ${node.getSourceFile().fileName}`);
}

/** A property's schema: a referenced definition keeps its own description beside the allOf. */
function propertySchema(ctx: Context, member: ts.PropertySignature): OpenApiSchema {
  const schema = schemaOfType(ctx, member.type!);
  const description = docOf(member);
  return description ? { ...schema, description } : schema;
}

function definitionOf(ctx: Context, declaration: ts.Declaration, name: string): OpenApiSchema {
  const description = docOf(declaration);
  const base: OpenApiSchema = description ? { description } : {};
  if (ts.isTypeAliasDeclaration(declaration)) {
    switch (declaration.name.text) {
      case 'Time':
      case 'MicroTime':
        return { ...base, type: 'string', format: 'date-time' };
      case 'Quantity':
        // A number or a string on the wire ("1", 1, "500m").
        return {
          ...base,
          'x-kubernetes-int-or-string': true,
          anyOf: [{ type: 'integer' }, { type: 'string' }],
        };
      default:
        return { ...base, ...schemaOfType(ctx, declaration.type) };
    }
  }
  if (!ts.isInterfaceDeclaration(declaration)) throw new Error(`unexpected declaration ${name}`);
  const members = declaration.members.filter(ts.isPropertySignature);
  if (members.length === 0) {
    // RawExtension, FieldsV1, apiextensions JSON: free-form content.
    return name.endsWith('.JSON')
      ? { ...base, 'x-kubernetes-preserve-unknown-fields': true }
      : { ...base, type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  }
  const properties: Record<string, OpenApiSchema> = {};
  const required: string[] = [];
  let apiVersion: string | undefined;
  let kind: string | undefined;
  for (const member of [...members].sort((a, b) => propName(a).localeCompare(propName(b)))) {
    const prop = propName(member);
    properties[prop] = propertySchema(ctx, member);
    if (!member.questionToken) required.push(prop);
    if (member.type && ts.isLiteralTypeNode(member.type) && ts.isStringLiteral(member.type.literal)) {
      if (prop === 'apiVersion') apiVersion = member.type.literal.text;
      if (prop === 'kind') kind = member.type.literal.text;
    }
  }
  const schema: OpenApiSchema = { ...base, type: 'object', properties };
  if (required.length > 0) schema.required = required;
  if (apiVersion && kind) {
    const slash = apiVersion.indexOf('/');
    schema['x-kubernetes-group-version-kind'] = [
      {
        group: slash < 0 ? '' : apiVersion.slice(0, slash),
        kind,
        version: slash < 0 ? apiVersion : apiVersion.slice(slash + 1),
      },
    ];
  }
  return schema;
}

function propName(member: ts.PropertySignature): string {
  const name = member.name;
  return ts.isIdentifier(name) || ts.isStringLiteral(name) ? name.text : name.getText();
}

function refName(schema: OpenApiSchema): string | undefined {
  const ref = schema.$ref ?? schema.allOf?.[0]?.$ref;
  return ref?.slice('#/components/schemas/'.length);
}

/**
 * Adds upstream's patch extensions along each path of a kind's strategic-merge table: the property
 * at the end of the path (in whichever definition owns it) gets `x-kubernetes-patch-strategy` and
 * `x-kubernetes-patch-merge-key`, which kubectl's client-side apply reads to build its patches.
 */
function addPatchExtensions(definitions: Record<string, OpenApiSchema>, rootName: string): void {
  const root = definitions[rootName]!;
  const [gvk] = root['x-kubernetes-group-version-kind'] ?? [];
  // Lists (ListMeta) and kind-less types have no strategic-merge fields of their own.
  if (!gvk || refName(root.properties?.metadata ?? {}) !== 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta')
    return;
  for (const [path, strategy] of Object.entries(patchSchemaFor(gvk.group, gvk.kind).fields)) {
    let owner: OpenApiSchema | undefined = root;
    const segments = path.split('.');
    for (let i = 0; i < segments.length && owner; i++) {
      const property: OpenApiSchema | undefined = owner.properties?.[segments[i]!];
      // The table is per group and kind, across versions (autoscaling/v1 HPAs have no conditions).
      if (!property) break;
      if (i === segments.length - 1) {
        property['x-kubernetes-patch-strategy'] = strategy.patchStrategy;
        if (strategy.patchMergeKey) property['x-kubernetes-patch-merge-key'] = strategy.patchMergeKey;
        break;
      }
      const next = property.items ?? property;
      const ref = refName(next);
      owner = ref ? definitions[ref] : next;
    }
  }
}

/** Reads kubernetes-types and returns every stable definition, keyed by upstream's definition name. */
export function generateDefinitions(typesDir = kubernetesTypesDir()): Record<string, OpenApiSchema> {
  const files: { path: string; prefix: string }[] = [
    { path: join(typesDir, 'runtime.d.ts'), prefix: 'io.k8s.apimachinery.pkg.runtime' },
    { path: join(typesDir, 'api/resource.d.ts'), prefix: 'io.k8s.apimachinery.pkg.api.resource' },
  ];
  const program0 = ts.sys.readDirectory(typesDir, ['.d.ts'], undefined, ['**/*.d.ts']);
  for (const path of program0.sort()) {
    const rel = relative(typesDir, path).split('/');
    if (rel.length !== 2 || rel[0] === 'api' || !isStableVersion(rel[1]!)) continue;
    files.push({ path, prefix: `${packagePrefix(rel[0]!)}.${rel[1]!.replace('.d.ts', '')}` });
  }
  const program = ts.createProgram(
    files.map((f) => f.path),
    { noResolve: false, types: [] },
  );
  const ctx: Context = { checker: program.getTypeChecker(), names: new Map() };
  const entries: { declaration: ts.Declaration; name: string }[] = [];
  for (const { path, prefix } of files) {
    const source = program.getSourceFile(path);
    if (!source) throw new Error(`cannot read ${path}`);
    for (const statement of source.statements) {
      if (ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement)) {
        const name = `${prefix}.${statement.name.text}`;
        ctx.names.set(statement, name);
        entries.push({ declaration: statement, name });
      }
    }
  }
  const definitions: Record<string, OpenApiSchema> = {
    [intOrStringName]: {
      description:
        'IntOrString is a type that can hold an int32 or a string.  When used in JSON or YAML marshalling and unmarshalling, it produces or consumes the inner type.  This allows you to have, for example, a JSON field that can accept a name or number.',
      'x-kubernetes-int-or-string': true,
      anyOf: [{ type: 'integer' }, { type: 'string' }],
    },
  };
  for (const { declaration, name } of entries) definitions[name] = definitionOf(ctx, declaration, name);
  for (const name of Object.keys(definitions)) addPatchExtensions(definitions, name);
  return Object.fromEntries(Object.entries(definitions).sort(([a], [b]) => a.localeCompare(b)));
}

/** The generated module's source text: one definition per line, so diffs stay readable. */
export function renderDefinitionsModule(definitions: Record<string, OpenApiSchema>, source: string): string {
  const lines = Object.entries(definitions).map(
    ([name, schema]) => `  ${JSON.stringify(name)}: ${JSON.stringify(schema)},`,
  );
  return [
    '// SPDX-License-Identifier: Apache-2.0',
    '// biome-ignore-all format: generated, one definition per line',
    `// Generated by plugins/apiserver/scripts/generate-schemas.ts from ${source}. Do not edit;`,
    '// regenerate with `node --import tsx plugins/apiserver/scripts/generate-schemas.ts`.',
    "import type { OpenApiSchema } from './types.js';",
    '',
    '/** Where the definitions come from. */',
    `export const definitionsSource = ${JSON.stringify(source)};`,
    '',
    '/** Upstream-named OpenAPI v3 component schemas of every stable built-in type. */',
    'export const definitions: Readonly<Record<string, OpenApiSchema>> = {',
    ...lines,
    '};',
    '',
  ].join('\n');
}

/** `kubernetes-types@<version>`. */
export function kubernetesTypesSource(typesDir = kubernetesTypesDir()): string {
  const pkg = JSON.parse(readFileSync(join(typesDir, 'package.json'), 'utf8')) as { version: string };
  return `kubernetes-types@${pkg.version}`;
}

/** Where the generated module lives. */
export const generatedModulePath = fileURLToPath(
  new URL('../src/schema/definitions.generated.ts', import.meta.url),
);

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = renderDefinitionsModule(generateDefinitions(), kubernetesTypesSource());
  writeFileSync(generatedModulePath, text);
  console.log(`wrote ${generatedModulePath} (${Math.round(text.length / 1024)} KiB)`);
}
