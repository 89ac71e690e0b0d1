/**
 * JUnit XML → Item, streaming. Root `<testsuites>` or a single `<testsuite>`; each suite an item
 * (unnamed ones `testsuite-001`...), each testcase a leaf: `<skipped>` → skipped, else `<failure>`
 * or `<error>` → failed, else passed. Details: `failure`/`error` = trim(message + " " + body),
 * `system-out`, `system-err` when not empty. Beyond Sonobuoy (which drops them), suites nested in
 * a suite become child items in document order. Any syntax error leaves the file item `unknown`
 * with `meta.error` and no children, as Sonobuoy's whole-document decode does.
 */
import { type Item, STATUS_FAILED, STATUS_PASSED, STATUS_SKIPPED, STATUS_UNKNOWN } from './item.js';
import { createXmlTokenizer, type XmlHandler, type XmlLimits, XmlSyntaxError } from './xml.js';

export interface JunitLimits extends XmlLimits {
  /** Longest kept failure/error/system-out/system-err text; the rest is cut with a note (default 1 MiB). */
  maxTextChars?: number;
  /** Most test cases in one file (default 1,000,000). */
  maxItems?: number;
}

interface Capture {
  message: string;
  text: TextSink;
}

/** Collects text up to a cap, remembering how much was dropped. */
class TextSink {
  #parts: string[] = [];
  #len = 0;
  #dropped = 0;
  constructor(private readonly cap: number) {}
  add(piece: string): void {
    const room = this.cap - this.#len;
    if (room <= 0) {
      this.#dropped += piece.length;
      return;
    }
    const kept = piece.length > room ? piece.slice(0, room) : piece;
    this.#parts.push(kept);
    this.#len += kept.length;
    this.#dropped += piece.length - kept.length;
  }
  value(): string {
    const s = this.#parts.join('');
    return this.#dropped ? `${s}\n... [fathom: ${this.#dropped} more characters cut]` : s;
  }
}

interface CaseState {
  name: string;
  skipped: boolean;
  failure?: Capture;
  error?: Capture;
  systemOut?: TextSink;
  systemErr?: TextSink;
}

interface Frame {
  /** What the element is to us; `other` elements are skipped with their text. */
  kind:
    | 'testsuites'
    | 'suite'
    | 'case'
    | 'failure'
    | 'error'
    | 'system-out'
    | 'system-err'
    | 'skipped'
    | 'other';
  suite?: Item;
  /** Suites seen directly inside this element, for `testsuite-00N` names. */
  suiteCount: number;
}

class JunitBuilder implements XmlHandler {
  readonly suites: Item[] = [];
  failed = false;
  #frames: Frame[] = [];
  #case: CaseState | undefined;
  #capture: TextSink | undefined;
  #cases = 0;

  constructor(
    private readonly maxText: number,
    private readonly maxItems: number,
  ) {}

  open(name: string, attrs: ReadonlyMap<string, string>): void {
    const parent = this.#frames.at(-1);
    const frame: Frame = { kind: 'other', suiteCount: 0 };
    this.#capture = undefined;
    if (!parent) {
      if (name === 'testsuites') frame.kind = 'testsuites';
      else if (name === 'testsuite') this.#openSuite(frame, attrs, undefined);
      else throw new XmlSyntaxError(`expected element type <testsuite> but have <${name}>`);
    } else if (name === 'testsuite' && (parent.kind === 'testsuites' || parent.kind === 'suite')) {
      this.#openSuite(frame, attrs, parent);
    } else if (name === 'testcase' && parent.kind === 'suite') {
      if (++this.#cases > this.maxItems)
        throw new XmlSyntaxError(`more than ${this.maxItems} test cases`);
      frame.kind = 'case';
      this.#case = { name: attrs.get('name') ?? '', skipped: false };
    } else if (parent.kind === 'case' && this.#case) {
      const c = this.#case;
      const capture = (): Capture => ({
        message: attrs.get('message') ?? '',
        text: new TextSink(this.maxText),
      });
      if (name === 'skipped') {
        frame.kind = 'skipped';
        c.skipped = true;
      } else if (name === 'failure') {
        frame.kind = 'failure';
        c.failure = capture();
        this.#capture = c.failure.text;
      } else if (name === 'error') {
        frame.kind = 'error';
        c.error = capture();
        this.#capture = c.error.text;
      } else if (name === 'system-out') {
        frame.kind = 'system-out';
        this.#capture = c.systemOut = new TextSink(this.maxText);
      } else if (name === 'system-err') {
        frame.kind = 'system-err';
        this.#capture = c.systemErr = new TextSink(this.maxText);
      }
    }
    this.#frames.push(frame);
  }

  #openSuite(frame: Frame, attrs: ReadonlyMap<string, string>, parent: Frame | undefined): void {
    frame.kind = 'suite';
    const index = parent ? ++parent.suiteCount : 1;
    const name = attrs.get('name') || `testsuite-${String(index).padStart(3, '0')}`;
    frame.suite = { name, status: STATUS_PASSED };
    if (parent?.suite) (parent.suite.items ??= []).push(frame.suite);
    else this.suites.push(frame.suite);
  }

  close(): void {
    const frame = this.#frames.pop()!;
    const parent = this.#frames.at(-1);
    if (frame.kind === 'case' && this.#case && parent?.suite) {
      const leaf = caseItem(this.#case);
      if (leaf.status === STATUS_FAILED) {
        this.failed = true;
        for (const f of this.#frames) if (f.suite) f.suite.status = STATUS_FAILED;
      }
      (parent.suite.items ??= []).push(leaf);
      this.#case = undefined;
    }
    // Text belongs to the element itself, as with Go's chardata: back in a capturing parent, resume it.
    const c = this.#case;
    if (parent?.kind === 'failure') this.#capture = c?.failure?.text;
    else if (parent?.kind === 'error') this.#capture = c?.error?.text;
    else if (parent?.kind === 'system-out') this.#capture = c?.systemOut;
    else if (parent?.kind === 'system-err') this.#capture = c?.systemErr;
    else this.#capture = undefined;
  }

  text(piece: string): void {
    this.#capture?.add(piece);
  }
}

function caseItem(c: CaseState): Item {
  const status = c.skipped ? STATUS_SKIPPED : c.failure || c.error ? STATUS_FAILED : STATUS_PASSED;
  const item: Item = { name: c.name, status };
  const details: Record<string, unknown> = {};
  for (const [key, cap] of [
    ['failure', c.failure],
    ['error', c.error],
  ] as const) {
    if (!cap) continue;
    const body = cap.text.value();
    if (cap.message !== '' || body !== '') details[key] = `${cap.message} ${body}`.trim();
  }
  const out = c.systemOut?.value();
  if (out) details['system-out'] = out;
  const err = c.systemErr?.value();
  if (err) details['system-err'] = err;
  if (Object.keys(details).length > 0) item.details = details;
  return item;
}

/**
 * Reads a JUnit document from `source` into `file` (the file item, already named and with its
 * meta); returns it with status and suites filled in. Never throws for bad input.
 */
export async function readJunit(
  source: AsyncIterable<Uint8Array | string>,
  file: Item,
  limits: JunitLimits = {},
): Promise<Item> {
  const builder = new JunitBuilder(
    limits.maxTextChars ?? 1024 * 1024,
    limits.maxItems ?? 1_000_000,
  );
  const tokenizer = createXmlTokenizer(builder, limits);
  const decoder = new TextDecoder('utf-8');
  try {
    for await (const chunk of source) {
      tokenizer.write(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
      if (tokenizer.done) break;
    }
    if (!tokenizer.done) {
      tokenizer.write(decoder.decode());
      tokenizer.end();
    }
  } catch (err) {
    return withError(file, err);
  }
  file.status = builder.failed ? STATUS_FAILED : STATUS_PASSED;
  if (builder.suites.length > 0) file.items = builder.suites;
  return file;
}

/** The file item for input that could not be read: unknown, with the reason in `meta.error`. */
export function withError(file: Item, err: unknown): Item {
  const message = err instanceof Error ? err.message : String(err);
  delete file.items;
  file.status = STATUS_UNKNOWN;
  file.meta = { ...file.meta, error: message };
  return file;
}
