import { createServer } from 'node:http';
import type { IncomingMessage, OutgoingHttpHeaders, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FathomError, messageOf } from '../core/errors.js';
import { silentLogger } from './logger.js';
import type { WorkerLogger } from './logger.js';
import type { MtlsClient } from '../core/mtls-client.js';

/** The path plugins POST progress updates to, on the worker's plain-HTTP port. */
export const PROGRESS_PATH = '/progress';

export interface ProgressRelayOptions {
  /** Client for the aggregator (mutual TLS). */
  client: MtlsClient;
  /** Aggregator path updates are forwarded to (see `progressPath`). */
  targetPath: string;
  /** `SONOBUOY_PROGRESS_PORT`; 0 picks a free port. */
  port: number;
  logger?: WorkerLogger;
}

/**
 * Only the plugin beside the worker may send progress in the worker's name: a pod's containers
 * share its network namespace, and the local backend runs both on this machine.
 */
export const RELAY_HOST = '127.0.0.1';

export interface ProgressRelay {
  /** The address actually bound: always loopback. */
  readonly address: string;
  /** The port actually bound. */
  readonly port: number;
  /** `http://<host>:<port>/progress`. */
  readonly url: string;
  close(): Promise<void>;
}

class HttpProgressRelay implements ProgressRelay {
  constructor(
    private readonly server: Server,
    readonly address: string,
    readonly port: number,
    readonly url: string,
  ) {}

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

function relay(
  opts: ProgressRelayOptions,
  logger: WorkerLogger,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://relay').pathname;
    if (path !== PROGRESS_PATH) {
      req.resume();
      res
        .writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
        .end('404 page not found\n');
      return;
    }
    // The body goes on unchanged and unparsed: the aggregator validates it. No content-type, like Sonobuoy.
    const headers: OutgoingHttpHeaders = {};
    const length = req.headers['content-length'];
    if (length !== undefined) headers['content-length'] = length;
    opts.client
      .request({ method: 'POST', path: opts.targetPath, headers, body: req })
      .then((answer) => {
        const back: OutgoingHttpHeaders = {};
        const type = answer.headers['content-type'];
        if (type !== undefined) back['content-type'] = type;
        res.writeHead(answer.status, back).end(answer.body);
      })
      .catch((err: unknown) => {
        logger.error(
          { target: opts.targetPath, error: messageOf(err) },
          'could not relay a progress update to the aggregator',
        );
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
  };
}

/**
 * Starts the plain-HTTP progress relay: anything sent to `/progress` (any method) is POSTed
 * unchanged to the aggregator over mutual TLS, and the aggregator's status and body are
 * copied back. Throws `FATHOM_CONFIG_INVALID` when the port cannot be bound.
 */
export async function startProgressRelay(opts: ProgressRelayOptions): Promise<ProgressRelay> {
  const host = RELAY_HOST;
  const logger = opts.logger ?? silentLogger;
  const server = createServer(relay(opts, logger));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(
        new FathomError(
          'FATHOM_CONFIG_INVALID',
          `SONOBUOY_PROGRESS_PORT: cannot listen on ${host}:${opts.port}: ${messageOf(err)}`,
          { cause: err, details: { variable: 'SONOBUOY_PROGRESS_PORT', port: opts.port } },
        ),
      ),
    );
    server.listen(opts.port, host, () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  logger.info({ address, port, target: opts.targetPath }, 'relaying progress updates');
  return new HttpProgressRelay(server, address, port, `http://${host}:${port}${PROGRESS_PATH}`);
}
