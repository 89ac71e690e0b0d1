/**
 * What a check config document may hold, as schemas over the parsed YAML: one per instance type,
 * producing exactly the shapes in `../instances.ts`, and the document's own fields. Unknown keys
 * are refused by name, so a misspelt `expect_staus` is an error rather than a silent default.
 */
import type { Problem, Schema, Static } from '../../core/schema.js';
import { Type } from '../../core/schema.js';
import type {
  CommandInstance,
  DnsInstance,
  DnsRecordType,
  HttpInstance,
  KubernetesStatusInstance,
  PluginInstance,
  TcpInstance,
} from '../instances.js';
import type { CheckType } from '../types.js';
import { MiB } from '../../core/bounded.js';

type Props = Record<string, Schema<unknown>>;

const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function at(path: string, key: string): string {
  return /^[A-Za-z_$][\w$-]*$/.test(key)
    ? `${path ? `${path}.` : ''}${key}`
    : `${path}[${JSON.stringify(key)}]`;
}

/** An object whose unknown keys are refused with the list of the known ones. */
function strict<P extends Props>(props: P, what: string): ReturnType<typeof Type.Object<P>> {
  const inner = Type.Object(props);
  const known = Object.keys(props);
  return {
    ...inner,
    problem(value, path): Problem | undefined {
      if (!isMap(value)) return { path, message: `must be a mapping (${what})` };
      const extra = Object.keys(value).find((k) => !Object.hasOwn(props, k));
      if (extra !== undefined) {
        return {
          path: at(path, extra),
          message: `is not a field of ${what} (${known.join(', ')})`,
        };
      }
      return inner.problem(value, path);
    },
  };
}

/** `schema`, then `test` on a value it accepted. */
function refine<T>(schema: Schema<T>, test: (value: T) => string | undefined): Schema<T> {
  return {
    ...schema,
    problem(value, path) {
      const first = schema.problem(value, path);
      if (first) return first;
      const message = test(value as T);
      return message === undefined ? undefined : { path, message };
    },
  };
}

const nonEmpty = (): Schema<string> => Type.String({ minLength: 1, maxLength: 64 * 1024 });

function regexProblem(source: string): string | undefined {
  try {
    new RegExp(source, 'u');
    return undefined;
  } catch (err) {
    return `is not a regular expression: ${(err as Error).message}`;
  }
}

const regex = (): Schema<string> => refine(Type.String({ maxLength: 4096 }), regexProblem);
const stringMap = (): Schema<Record<string, string>> => Type.Record(Type.String(), Type.String());
const millis = (): Schema<number> => Type.Number({ minimum: 0, maximum: 86_400_000 });
const days = (): Schema<number> => Type.Integer({ minimum: 0, maximum: 36_500 });
const port = (): Schema<number> => Type.Integer({ minimum: 1, maximum: 65_535 });

const httpUrl = refine(nonEmpty(), (s) => {
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    return `"${s}" is not a URL`;
  }
  return url.protocol === 'http:' || url.protocol === 'https:'
    ? undefined
    : `must be an http:// or https:// URL, not ${url.protocol}`;
});

export const httpInstance = strict(
  {
    url: httpUrl,
    method: Type.Optional(Type.Enum(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'])),
    headers: Type.Optional(stringMap()),
    body: Type.Optional(Type.String({ maxLength: 1 * MiB })),
    expect_status: Type.Optional(
      Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), { minItems: 1, maxItems: 500 }),
    ),
    body_regex: Type.Optional(regex()),
    tls_verify: Type.Optional(Type.Boolean()),
    ca_file: Type.Optional(nonEmpty()),
    cert_days_warning: Type.Optional(days()),
    cert_days_critical: Type.Optional(days()),
    latency_warning_ms: Type.Optional(millis()),
  },
  'an http instance',
);

export const tcpInstance = strict(
  {
    host: Type.String({ minLength: 1, maxLength: 253 }),
    port: port(),
    latency_warning_ms: Type.Optional(millis()),
  },
  'a tcp instance',
);

const recordTypes: readonly DnsRecordType[] = ['A', 'AAAA', 'CNAME', 'MX', 'NS', 'SRV', 'TXT'];

export const dnsInstance = strict(
  {
    name: Type.String({ minLength: 1, maxLength: 253 }),
    record_type: Type.Optional(Type.Enum(recordTypes)),
    server: Type.Optional(Type.String({ minLength: 1, maxLength: 261 })),
    expect: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { maxItems: 1000 })),
  },
  'a dns instance',
);

/** A command and its arguments: at least the program (minItems makes it the tuple). */
const argvList: Schema<string[]> = Type.Array(Type.String({ maxLength: 64 * 1024 }), {
  minItems: 1,
  maxItems: 1000,
});
const argv = argvList as Schema<[string, ...string[]]>;

export const commandInstance = strict(
  {
    command: refine(argv, (c) => (c[0] === '' ? 'must name a program first' : undefined)),
    env: Type.Optional(
      refine(stringMap(), (env) => {
        const bad = Object.keys(env).find((k) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(k));
        return bad === undefined ? undefined : `"${bad}" is not an environment variable name`;
      }),
    ),
    max_output_bytes: Type.Optional(Type.Integer({ minimum: 1, maximum: 16 * MiB })),
    output_regex: Type.Optional(regex()),
  },
  'a command instance',
);

export const kubernetesStatusInstance = strict(
  {
    apiVersion: nonEmpty(),
    kind: nonEmpty(),
    name: Type.String({ minLength: 1, maxLength: 253 }),
    namespace: Type.Optional(Type.String({ minLength: 1, maxLength: 63 })),
  },
  'a kubernetes-status instance',
);

export const pluginInstance = strict({ plugin: nonEmpty() }, 'a plugin instance');

/** The instance schema of each type. */
export const instanceSchemas = {
  http: httpInstance,
  tcp: tcpInstance,
  dns: dnsInstance,
  command: commandInstance,
  'kubernetes-status': kubernetesStatusInstance,
  plugin: pluginInstance,
} as const satisfies Record<CheckType, Schema<unknown>>;

// The schemas produce exactly the shapes the runners read (every field, nothing more, each of
// the right type): these fail to compile otherwise.
type Same<A, B> = [A] extends [B]
  ? [keyof A] extends [keyof B]
    ? [keyof B] extends [keyof A]
      ? true
      : false
    : false
  : false;
const shapes: [
  Same<Static<typeof httpInstance>, HttpInstance>,
  Same<Static<typeof tcpInstance>, TcpInstance>,
  Same<Static<typeof dnsInstance>, DnsInstance>,
  Same<Static<typeof commandInstance>, CommandInstance>,
  Same<Static<typeof kubernetesStatusInstance>, KubernetesStatusInstance>,
  Same<Static<typeof pluginInstance>, PluginInstance>,
] = [true, true, true, true, true, true];
void shapes;
