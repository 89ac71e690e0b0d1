import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FathomError } from '../core/errors.js';
import { healthRow, healthRows, parseManifests, readManifests } from './manifests.js';
import type { ManifestObject } from './manifests.js';
import { stream } from './test-helpers.js';

async function all(
  source: AsyncIterable<string | Uint8Array> | string,
  file = 'm.yaml',
): Promise<ManifestObject[]> {
  const out: ManifestObject[] = [];
  for await (const o of parseManifests(source, file)) out.push(o);
  return out;
}

function chunked(text: string, size: number): AsyncGenerator<string> {
  const parts: string[] = [];
  for (let i = 0; i < text.length; i += size) parts.push(text.slice(i, i + size));
  return stream(parts);
}

async function failure(
  source: AsyncIterable<string> | string,
  file = 'm.yaml',
): Promise<FathomError> {
  try {
    await all(source, file);
  } catch (err) {
    if (err instanceof FathomError) return err;
    throw err;
  }
  throw new Error('expected a FathomError');
}

const brief = (objects: ManifestObject[]): string[] =>
  objects.map(
    (o) => `${o.line}:${o.object.kind as string}/${(o.object.metadata as { name: string }).name}`,
  );

const kubectlList = `apiVersion: v1
items:
- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: web
    namespace: default

  # a comment inside the list
- apiVersion: v1
  kind: Service
  metadata:
    name: web
    namespace: default
  spec:
    ports:
    - port: 80
- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: cfg
kind: List
metadata:
  resourceVersion: ""
`;

describe('parseManifests: YAML', () => {
  it('reads multi-document YAML with each object line', async () => {
    const text = `# leading comment
apiVersion: v1
kind: ConfigMap
metadata: {name: a}
---
---
# empty document above
apiVersion: v1
kind: Secret
metadata:
  name: b
...
--- 
apiVersion: v1
kind: Pod
metadata: {name: c}
`;
    expect(brief(await all(text))).toEqual(['2:ConfigMap/a', '8:Secret/b', '14:Pod/c']);
  });

  it('a kubectl List stands for its items, whatever the chunking', async () => {
    for (const size of [1, 7, 64, 100_000]) {
      expect(brief(await all(chunked(kubectlList, size)))).toEqual([
        '3:Deployment/web',
        '10:Service/web',
        '18:ConfigMap/cfg',
      ]);
    }
    const [, svc] = await all(kubectlList);
    expect(svc!.object).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default' },
      spec: { ports: [{ port: 80 }] },
    });
  });

  it('keeps blank and # lines inside block scalars of items', async () => {
    const text = `apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: script}
  data:
    run.sh: |
      #!/bin/sh

      # say hello
      echo hello
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: next}
`;
    const [script, next] = await all(text);
    expect(script!.object.data).toEqual({ 'run.sh': '#!/bin/sh\n\n# say hello\necho hello\n' });
    expect(next!.line).toBe(13);
  });

  it('indented and flow-style items, and an empty list', async () => {
    const indented = `kind: List\napiVersion: v1\nitems:\n  - apiVersion: v1\n    kind: Pod\n    metadata: {name: p}\n  - {apiVersion: v1, kind: Pod, metadata: {name: q}}\n`;
    expect(brief(await all(indented))).toEqual(['4:Pod/p', '7:Pod/q']);
    const flow = `kind: List\napiVersion: v1\nitems: [\n  {apiVersion: v1, kind: Pod, metadata: {name: p}},\n  {apiVersion: v1, kind: Pod, metadata: {name: q}}]\n`;
    expect(brief(await all(flow))).toEqual(['4:Pod/p', '5:Pod/q']);
    expect(await all('apiVersion: v1\nkind: List\nitems: []\n')).toEqual([]);
    expect(await all('apiVersion: v1\nkind: List\nitems:\n')).toEqual([]);
    expect(await all('apiVersion: v1\nitems:\nkind: List\n')).toEqual([]);
  });

  it('syntax errors name the file and the line of the stream', async () => {
    const inItem = kubectlList.replace('    - port: 80', '    - port: [80');
    const err = await failure(inItem, 'list.yaml');
    expect(err.code).toBe('FATHOM_YAML_SYNTAX');
    expect(err.message).toMatch(/^list\.yaml:17:16: /);
    const afterItems = `${kubectlList}bad: [\n`;
    expect((await failure(afterItems, 'list.yaml')).message).toMatch(/^list\.yaml:25:7: /);
    const secondDoc =
      'apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\nkind: Pod\n  bad: indent\n';
    expect((await failure(secondDoc, 'd.yaml')).message).toMatch(/^d\.yaml:5:\d+: /);
  });

  it('a document that is not a Kubernetes object is an error with its line', async () => {
    expect((await failure('apiVersion: v1\nkind: Pod\n---\njust a string\n')).message).toBe(
      'm.yaml:4: is not a Kubernetes object (not a mapping)',
    );
    expect((await failure('apiVersion: v1\nmetadata: {name: x}\n')).message).toBe(
      'm.yaml:1: is not a Kubernetes object: "kind" is missing or not a string',
    );
    expect(
      (await failure('apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n- 3\n'))
        .message,
    ).toBe('m.yaml:6: is not a Kubernetes object (not a mapping)');
    expect((await failure('apiVersion: v1\nkind: List\nitems: {a: 1}\n')).code).toBe(
      'FATHOM_CONFIG_INVALID',
    );
  });

  it('directives, an alias bomb and bytes split inside a character', async () => {
    expect(
      brief(await all('%YAML 1.2\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: d}\n')),
    ).toEqual(['3:Pod/d']);
    const bomb = `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\napiVersion: v1\nkind: Pod\n`;
    expect((await failure(bomb)).code).toBe('FATHOM_YAML_SYNTAX');
    const bytes = new TextEncoder().encode(
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: "é"}\n',
    );
    const cut = bytes.indexOf(0xc3) + 1;
    expect(brief(await all(stream([bytes.slice(0, cut), bytes.slice(cut)])))).toEqual([
      '1:ConfigMap/é',
    ]);
  });

  it('streams: the first object comes out before the input is read to the end', async () => {
    let produced = 0;
    const count = 20_000;
    function* big(): Generator<string> {
      yield 'apiVersion: v1\nkind: List\nitems:\n';
      for (let i = 0; i < count; i++) {
        produced++;
        yield `- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: c${i}\n    namespace: ns\n`;
      }
    }
    let seen = 0;
    let producedAtFirst = -1;
    for await (const o of parseManifests(stream(big()), 'big.yaml')) {
      if (seen === 0) producedAtFirst = produced;
      seen++;
      if (seen === count) expect(o.line).toBe(3 + 5 * (count - 1) + 1);
    }
    expect(seen).toBe(count);
    expect(producedAtFirst).toBeLessThan(10);
  });
});

describe('parseManifests: JSON', () => {
  const list = JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'List',
      metadata: { note: '{"items": [not a list]}' },
      items: [
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'a', annotations: { x: 'brace } bracket ] quote " backslash \\' } },
        },
        { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b' }, data: { items: '[1]' } },
      ],
    },
    null,
    2,
  );

  it('a List stands for its items, at every chunk size', async () => {
    for (const size of [1, 3, 50, 100_000]) {
      const objects = await all(chunked(list, size), 'l.json');
      expect(objects.map((o) => o.object.kind)).toEqual(['Pod', 'ConfigMap']);
      expect(objects[0]!.object.metadata).toEqual({
        name: 'a',
        annotations: { x: 'brace } bracket ] quote " backslash \\' },
      });
    }
    expect(brief(await all(list))).toEqual(['8:Pod/a', '18:ConfigMap/b']);
  });

  it('a single object, a top-level array, JSON lines', async () => {
    expect(brief(await all('{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}}'))).toEqual([
      '1:Pod/p',
    ]);
    expect(
      brief(
        await all(
          '[\n{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}},\n {"apiVersion":"v1","kind":"Pod","metadata":{"name":"q"}}]',
        ),
      ),
    ).toEqual(['2:Pod/p', '3:Pod/q']);
    const lines =
      '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}}\n\uFEFF{"apiVersion":"v1","kind":"Pod","metadata":{"name":"q"}}\n';
    expect(brief(await all(lines))).toEqual(['1:Pod/p', '2:Pod/q']);
    // Like kubectl, input that starts with { is JSON: a YAML flow mapping is not.
    expect((await failure('{apiVersion: v1, kind: Pod}', 'f.yaml')).message).toMatch(
      /^f\.yaml:1:2: /,
    );
  });

  it('errors name the file, line and column', async () => {
    const bad = '{\n  "apiVersion": "v1",\n  "kind": "Pod",\n  "metadata": {"name": "p",}\n}';
    const err = await failure(bad, 'b.json');
    expect(err.code).toBe('FATHOM_YAML_SYNTAX');
    expect(err.message).toMatch(/^b\.json:4:28: Expected double-quoted property name$/);
    expect((await failure('{"apiVersion": "v1", "kind": "Pod"', 't.json')).message).toBe(
      't.json:1:35: unexpected end of JSON input',
    );
    expect((await failure('{"apiVersion":"v1","kind":"Pod"} 42', 's.json')).message).toBe(
      's.json:1:34: expected a JSON object or array at the top level',
    );
    expect((await failure('[{"apiVersion":"v1","kind":"Pod"}, 3]', 'a.json')).message).toBe(
      'a.json:1:36: a list element is not an object',
    );
  });
});

describe('readManifests and health rows', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fathom-manifests-'));
    await writeFile(
      path.join(dir, 'b.json'),
      '{"apiVersion":"v1","kind":"Service","metadata":{"name":"s","namespace":"n"},"spec":{"type":"LoadBalancer"}}',
    );
    await writeFile(
      path.join(dir, 'a.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: n}\n',
    );
    await writeFile(path.join(dir, 'notes.txt'), 'not a manifest');
    await mkdir(path.join(dir, 'sub'));
    await writeFile(
      path.join(dir, 'sub', 'c.yml'),
      'apiVersion: v1\nkind: Secret\nmetadata: {name: x}\n',
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a directory (sorted, manifests only), files and stdin in order', async () => {
    const stdin = (): AsyncGenerator<Uint8Array> =>
      stream([
        new TextEncoder().encode('apiVersion: v1\nkind: Pod\nmetadata: {name: from-stdin}\n'),
      ]);
    const seen: string[] = [];
    for await (const o of readManifests([dir, '-', path.join(dir, 'sub', 'c.yml')], {
      stdin: stdin(),
    })) {
      seen.push(`${path.basename(o.file)}:${o.line}:${o.object.kind as string}`);
    }
    expect(seen).toEqual(['a.yaml:1:ConfigMap', 'b.json:1:Service', '-:1:Pod', 'c.yml:1:Secret']);
    const recursive: string[] = [];
    for await (const o of readManifests([dir], { recursive: true }))
      recursive.push(o.object.kind as string);
    expect(recursive).toEqual(['ConfigMap', 'Service', 'Secret']);
  });

  it('a path that cannot be read is FATHOM_BAD_FLAG_VALUE', async () => {
    const gen = readManifests([path.join(dir, 'missing.yaml')]);
    await expect(gen.next()).rejects.toMatchObject({ code: 'FATHOM_BAD_FLAG_VALUE' });
  });

  it('rows carry apiVersion, kind, namespace, name, status and message', async () => {
    const rows = [];
    for await (const r of healthRows(readManifests([dir]))) rows.push(r);
    expect(rows).toEqual([
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        namespace: 'n',
        name: 'c',
        status: 'Current',
        message: 'Resource is always ready',
      },
      {
        apiVersion: 'v1',
        kind: 'Service',
        namespace: 'n',
        name: 's',
        status: 'InProgress',
        message: 'ClusterIP not set. Service type: LoadBalancer',
      },
    ]);
    expect(
      healthRow({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', generation: 'x' } }),
    ).toMatchObject({
      namespace: '',
      status: 'Unknown',
    });
  });
});
