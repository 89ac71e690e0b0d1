/** Check configs for the dispatcher benches: 500 names, one tcp instance each, real digests. */
import { configDigest } from '../../src/checks/config/index.js';
import type { CheckConfig } from '../../src/checks/types.js';

export function benchConfig(i: number): CheckConfig {
  const content = {
    name: `check-${i % 500}`,
    type: 'tcp' as const,
    intervalMs: 15_000,
    timeoutMs: 10_000,
    instances: [{ host: `svc-${i}.bench`, port: 443 }],
  };
  return { ...content, source: `bench:${i}`, digest: configDigest(content) };
}
