// @ts-check
/**
 * fathom's import arrows as an ESLint rule: cli → backends → domains → core, never back, no
 * domain importing another unless declared, and only the Kubernetes backend talking to the
 * Kubernetes client. Unlike `no-restricted-imports` it sees dynamic `import()` too, which the
 * CLI uses for every lazy command.
 */
import { dirname, relative, resolve, sep } from 'node:path';

const K8S_CLIENT = '@kubernetes/client-node';

/** @typedef {{ srcRoot: string, sideways: Record<string, string[]> | '*' }} Options */

/** The layer a file of src/ belongs to: core, cli, web, backends, backends/<name>, or a domain. */
function layerOf(/** @type {string} */ srcRoot, /** @type {string} */ file) {
  const rel = relative(srcRoot, file);
  if (rel.startsWith('..') || rel === '') return undefined;
  const parts = rel.split(sep);
  if (parts[0] === 'backends') return parts.length > 2 ? `backends/${parts[1]}` : 'backends';
  return parts.length > 1 ? parts[0] : undefined;
}

/** @param {string} layer */
function kindOf(layer) {
  if (layer === 'core' || layer === 'cli' || layer === 'web' || layer === 'backends') return layer;
  if (layer.startsWith('backends/')) return 'backend';
  return 'domain';
}

/**
 * Why `from` may not import `to`, or undefined when it may.
 * @param {string} from @param {string} to @param {Options['sideways']} sideways
 */
export function arrowViolation(from, to, sideways) {
  if (from === to || to === 'core') return undefined;
  const target = kindOf(to);
  switch (kindOf(from)) {
    case 'core':
      return 'core depends on nothing else in fathom.';
    case 'domain':
      if (target === 'domain') {
        return sideways === '*' || (sideways[from] ?? []).includes(to)
          ? undefined
          : `Domain ${from} may not import domain ${to}: declare it in eslint.config.js (sideways) if it must.`;
      }
      return 'Domain code never imports a backend, the CLI or the web UI.';
    case 'web':
      return target === 'domain'
        ? undefined
        : 'The web UI reads domains only, never a backend or the CLI.';
    case 'backends':
      return target === 'domain' ? undefined : 'The backend contract names domain types only.';
    case 'backend':
      if (target === 'domain' || target === 'backends') return undefined;
      return from === 'backends/local'
        ? 'The local backend stands alone.'
        : 'Backends do not import the CLI or each other.';
    default:
      return undefined; // the CLI is the composition root
  }
}

/** @type {import('eslint').Rule.RuleModule} */
const rule = {
  meta: {
    type: 'problem',
    docs: { description: "fathom's import arrows, static and dynamic imports alike" },
    schema: [
      {
        type: 'object',
        properties: { srcRoot: { type: 'string' }, sideways: { type: ['object', 'string'] } },
        additionalProperties: false,
      },
    ],
  },
  create(context) {
    const options = /** @type {Options} */ (context.options[0]);
    const srcRoot = resolve(options.srcRoot);
    const from = layerOf(srcRoot, context.filename);
    if (!from) return {};
    /** @param {import('estree').Node} node @param {unknown} value */
    const check = (node, value) => {
      if (typeof value !== 'string') return;
      if (value === K8S_CLIENT || value.startsWith(`${K8S_CLIENT}/`)) {
        if (from !== 'backends/kubernetes') {
          context.report({
            node,
            message: 'Only src/backends/kubernetes may talk to the Kubernetes client.',
          });
        }
        return;
      }
      if (!value.startsWith('.')) return;
      const to = layerOf(srcRoot, resolve(dirname(context.filename), value));
      const why = to && arrowViolation(from, to, options.sideways);
      if (why) context.report({ node, message: why });
    };
    /** @param {any} source */
    const literal = (source) =>
      source?.type === 'Literal'
        ? source.value
        : source?.type === 'TemplateLiteral' && source.expressions.length === 0
          ? source.quasis[0]?.value.cooked
          : undefined;
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ImportExpression: (node) => check(node, literal(node.source)),
    };
  },
};

export default { rules: { arrows: rule } };
