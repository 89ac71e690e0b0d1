import type { Command } from 'commander';
import type { Io } from '../context.js';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function registerGen(program: Command, io: Io): void {
  const gen = program.command('gen').description('print definitions and manifests');
  gen
    .command('plugin')
    .description('print a plugin definition (Sonobuoy format) for the given command')
    .requiredOption('-n, --name <name>', 'plugin name (a DNS subdomain)')
    .option('-i, --image <image>', 'container image (the local backend does not pull it)')
    .option('-t, --type <type>', 'job or daemonset', 'job')
    .option('-f, --format <format>', 'result format: junit, e2e, gojson, raw or manual', 'raw')
    .option('-c, --cmd <cmd>', 'command to run (repeatable)', collect)
    .option('-a, --arg <arg>', 'argument (repeatable)', collect)
    .option('-e, --env <K=V>', 'environment variable (repeatable)', collect)
    .option('--configmap <file>', 'file to mount in SONOBUOY_CONFIG_DIR (repeatable)', collect)
    .option('-D, --description <text>', 'description')
    .option('-u, --url <url>', 'source URL')
    .option('--node-selector <k=v>', 'only run on nodes with this label (repeatable)', collect)
    .option('--show-default-podspec', "include the driver's default podSpec")
    .action(
      async (o: {
        name: string;
        image?: string;
        type: string;
        format: string;
        cmd?: string[];
        arg?: string[];
        env?: string[];
        configmap?: string[];
        description?: string;
        url?: string;
        nodeSelector?: string[];
        showDefaultPodspec?: boolean;
      }) => {
        // Loaded here, not at start-up: every other command would pay for it.
        const { generatePluginDefinition } = await import('../../plugin/gen.js');
        io.out(
          await generatePluginDefinition({
            name: o.name,
            type: o.type,
            format: o.format,
            cwd: io.cwd,
            ...(o.image ? { image: o.image } : {}),
            ...(o.cmd ? { cmd: o.cmd } : {}),
            ...(o.arg ? { args: o.arg } : {}),
            ...(o.env ? { env: o.env } : {}),
            ...(o.configmap ? { configmap: o.configmap } : {}),
            ...(o.description ? { description: o.description } : {}),
            ...(o.url ? { url: o.url } : {}),
            ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}),
            ...(o.showDefaultPodspec ? { showDefaultPodspec: true } : {}),
          }),
        );
      },
    );
}
