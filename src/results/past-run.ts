/**
 * A past run's configuration, read back from its results tarball, so `fathom run --from` can
 * repeat it (sonobuoy#634): each plugin's definition as it ran (`plugins/<p>/definition.json`,
 * spelled `defintion.json` by Sonobuoy before May 2022), and the run's timeout and worker image
 * from `meta/config.json` and the definitions, and what its cluster snapshot collected. Only those small files are read; the archive is
 * untrusted and bounded as `fathom results` bounds it.
 */
import { FathomError } from '../core/errors.js';
import { Type, type Static } from '../core/schema.js';
import { validatedJson } from '../core/validated.js';
import { readSnapshotConfig, type SnapshotConfig } from '../snapshot/config.js';
import { readArchive } from './archive.js';
import { CONFIG_FILE, INFO_FILE } from './reader.js';

/** A definition file, like a plugin file, is at most 2 MiB. */
const MAX_DEFINITION_BYTES = 2 * 1024 * 1024;
const MAX_META_BYTES = 16 * 1024 * 1024;
const definitionFile = /^plugins\/([^/]+)\/(definition|defintion)\.json$/;

export interface PastPlugin {
  readonly name: string;
  /** The definition as JSON text (JSON is YAML: the plugin loader reads it as a plugin file). */
  readonly text: string;
  /** Names it in messages: `<tarball>:plugins/<p>/definition.json`. */
  readonly source: string;
}

export interface PastRun {
  /** In the run's order (meta/info.json), else by name. */
  readonly plugins: readonly PastPlugin[];
  readonly timeoutSeconds?: number;
  /** The worker image and its pull policy the plugins ran with (Kubernetes runs). */
  readonly workerImage?: string;
  readonly imagePullPolicy?: string;
  /** What its cluster snapshot collected (`Resources`, `Filters`, `Limits`), when config.json says. */
  readonly snapshot?: SnapshotConfig;
}

const definitionSchema = Type.Object({
  Definition: Type.Record(Type.String(), Type.Unknown()),
  SonobuoyImage: Type.Optional(Type.String()),
  ImagePullPolicy: Type.Optional(Type.String()),
});
const configSchema = Type.Object({
  Server: Type.Optional(
    Type.Object({ timeoutseconds: Type.Optional(Type.Integer({ minimum: 0 })) }),
  ),
  Resources: Type.Optional(Type.Unknown()),
  Filters: Type.Optional(Type.Unknown()),
  Limits: Type.Optional(Type.Unknown()),
});
const infoSchema = Type.Object({ plugins: Type.Array(Type.String()) });

export async function readPastRun(tarball: string): Promise<PastRun> {
  const archive = await readArchive(tarball, (rel) =>
    definitionFile.test(rel)
      ? MAX_DEFINITION_BYTES
      : rel === CONFIG_FILE || rel === INFO_FILE
        ? MAX_META_BYTES
        : false,
  );
  try {
    const read = (rel: string) => {
      const s = archive.stat(rel);
      if (!s?.isFile) return undefined;
      if (s.size > (definitionFile.test(rel) ? MAX_DEFINITION_BYTES : MAX_META_BYTES)) {
        throw new FathomError('FATHOM_RESULTS_INVALID', `${tarball}: ${rel} is ${s.size} bytes`);
      }
      return archive.readText(rel);
    };
    const opts = (rel: string) => ({
      file: `${tarball}:${rel}`,
      code: 'FATHOM_RESULTS_INVALID' as const,
    });
    const found = new Map<string, { rel: string; def: Static<typeof definitionSchema> }>();
    for (const rel of archive.files()) {
      const m = definitionFile.exec(rel);
      // The newer spelling wins when a tarball somehow holds both.
      if (m && (!found.has(m[1]!) || m[2] === 'definition')) {
        found.set(m[1]!, { rel, def: validatedJson(definitionSchema, read(rel)!, opts(rel)) });
      }
    }
    if (found.size === 0) {
      throw new FathomError(
        'FATHOM_RESULTS_INVALID',
        `${tarball}: holds no plugin definitions (plugins/<plugin>/definition.json) to repeat`,
      );
    }
    const infoText = read(INFO_FILE);
    const order = infoText ? validatedJson(infoSchema, infoText, opts(INFO_FILE)).plugins : [];
    const rank = (n: string): number => (order.includes(n) ? order.indexOf(n) : order.length);
    const names = [...found.keys()].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : 1));
    const configText = read(CONFIG_FILE);
    const config = configText ? validatedJson(configSchema, configText, opts(CONFIG_FILE)) : {};
    const first = found.get(names[0]!)!.def;
    const snapshot =
      'Resources' in config || 'Filters' in config || 'Limits' in config
        ? readSnapshotConfig(config, {
            where: `${tarball}:${CONFIG_FILE}`,
            code: 'FATHOM_RESULTS_INVALID',
          })
        : undefined;
    return {
      plugins: names.map((name) => {
        const { rel, def } = found.get(name)!;
        return { name, text: JSON.stringify(def.Definition), source: `${tarball}:${rel}` };
      }),
      ...(config.Server?.timeoutseconds !== undefined
        ? { timeoutSeconds: config.Server.timeoutseconds }
        : {}),
      ...(first.SonobuoyImage ? { workerImage: first.SonobuoyImage } : {}),
      ...(first.ImagePullPolicy ? { imagePullPolicy: first.ImagePullPolicy } : {}),
      ...(snapshot ? { snapshot } : {}),
    };
  } finally {
    archive.cleanup();
  }
}
