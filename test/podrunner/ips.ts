/**
 * Pod and node IPs on loopback. Linux routes all of 127.0.0.0/8 to `lo`, so every pod can
 * have an address of its own and bind its ports there without clashing with other pods,
 * while any local process can reach it. Addresses come from 127.0.1.1–127.0.255.254
 * (127.0.0.x is left to everything else that listens on loopback), handed out round-robin
 * from a random start so that two runners on one machine are unlikely to overlap and a
 * released address is not reused at once.
 */

const FIRST = 1 * 256 + 1; // 127.0.1.1
const LAST = 255 * 256 + 254; // 127.0.255.254

const toIp = (n: number): string => `127.0.${Math.floor(n / 256)}.${n % 256}`;

function fromIp(ip: string): number | undefined {
  const m = /^127\.0\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return undefined;
  const n = Number(m[1]) * 256 + Number(m[2]);
  return n >= FIRST && n <= LAST && Number(m[2]) !== 0 && Number(m[2]) !== 255 ? n : undefined;
}

/** Hands out unique loopback addresses. */
export interface IpPool {
  allocate(): string;
  /** Marks an address as taken (e.g. a pod that already has one); false if outside the pool. */
  reserve(ip: string): boolean;
  release(ip: string): void;
  readonly inUse: number;
}

class LoopbackIpPool implements IpPool {
  readonly #used = new Set<number>();
  #next: number;

  constructor(start: number) {
    this.#next = start;
  }

  get inUse(): number {
    return this.#used.size;
  }

  allocate(): string {
    for (let tries = 0; tries <= LAST - FIRST; tries++) {
      const n = this.#next;
      this.#next = n >= LAST ? FIRST : n + 1;
      const low = n % 256;
      if (low === 0 || low === 255 || this.#used.has(n)) continue;
      this.#used.add(n);
      return toIp(n);
    }
    throw new Error('pod runner: no loopback address left');
  }

  reserve(ip: string): boolean {
    const n = fromIp(ip);
    if (n === undefined) return false;
    this.#used.add(n);
    return true;
  }

  release(ip: string): void {
    const n = fromIp(ip);
    if (n !== undefined) this.#used.delete(n);
  }
}

/** A pool starting at a random address, or at `start` (an index into the range) for tests. */
export function createIpPool(start?: number): IpPool {
  const span = LAST - FIRST + 1;
  const offset = start ?? Math.floor(Math.random() * span);
  return new LoopbackIpPool(FIRST + (((offset % span) + span) % span));
}
