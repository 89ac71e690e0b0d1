import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fathom, fathomBin, tempDir } from '../support/cli.js';

const objects = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, generation: 3}
spec: {replicas: 2}
status: {observedGeneration: 3, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2,
  conditions: [{type: Available, status: "True"}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop, generation: 7}
spec: {replicas: 2}
status: {observedGeneration: 6, replicas: 2}
---
apiVersion: v1
kind: Pod
metadata: {name: batch-1, namespace: jobs}
status: {phase: Failed}
`;

interface Row {
  kind: string;
  name: string;
  status: string;
  message: string;
}

/** Runs the CLI with `input` on its standard input. */
function withStdin(args: string[], input: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [fathomBin, ...args], {
      env: { ...process.env, NO_COLOR: '1' },
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout }));
    child.stdin.end(input);
  });
}

describe('fathom health -f (offline)', () => {
  it("gives kstatus's verdict and message per object, exiting 1 when one is not Current", async () => {
    const dir = await tempDir('health');
    await writeFile(join(dir, 'objects.yaml'), objects);
    const r = await fathom(['health', '-f', join(dir, 'objects.yaml'), '-o', 'json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: 1 of 3 object(s) are not Current\n');
    expect(
      (JSON.parse(r.stdout) as Row[]).map((o) => [o.kind, o.name, o.status, o.message]),
    ).toEqual([
      ['Deployment', 'web', 'Current', 'Deployment is available. Replicas: 2'],
      [
        'Deployment',
        'api',
        'InProgress',
        'Deployment generation is 7, but latest observed generation is 6',
      ],
      // kstatus reports reconcile status, not health: a failed Pod is Current, by design.
      ['Pod', 'batch-1', 'Current', 'Pod has completed, but not successfully'],
    ]);
  });

  it('reads `kubectl get -o yaml` from stdin and prints a table; all Current exits 0', async () => {
    const list = `apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: done, namespace: a}\n  status: {phase: Succeeded}\n`;
    const r = await withStdin(['health', '-f', '-'], list);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/NAMESPACE\s+KIND\s+NAME\s+STATUS\s+MESSAGE/);
    expect(r.stdout).toMatch(/a\s+Pod\s+done\s+Current\s+Pod has completed successfully/);
  });

  it('exits 2 naming file and line for bad input', async () => {
    const dir = await tempDir('health-bad');
    await writeFile(join(dir, 'bad.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata: {name: x\n');
    const r = await fathom(['health', '-f', join(dir, 'bad.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^error: ${join(dir, 'bad.yaml')}:\\d+`));
    expect((await fathom(['health'])).code).toBe(2);
  });
});
