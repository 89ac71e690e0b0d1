/**
 * A small streaming XML tokenizer for untrusted JUnit files.
 *
 * Why our own: fast-xml-parser 5 parses whole documents (a 200 MB e2e junit would sit in memory
 * several times over) and no SAX package is in the dependency set. JUnit needs only elements,
 * attributes and character data, so a focused tokenizer is small and lets us make it safe by
 * construction: no DTD processing at all (a DOCTYPE is skipped, bounded, and never expanded, so
 * entity bombs and external entities cannot happen), only the five predefined entities and
 * numeric character references, bounded tag/attribute/directive sizes and nesting depth, and text
 * streamed to the handler in pieces instead of buffered. Behaviour follows Go's encoding/xml
 * (which Sonobuoy uses) where it matters: `\r\n` becomes `\n`, unknown entities are errors,
 * mismatched end tags are errors, and reading stops after the root element.
 */

import { FathomError } from '../core/errors.js';

/** Receives tokens of the root element and everything inside it. */
export interface XmlHandler {
  /** An element opened; `name` without namespace prefix. Attribute names also lose their prefix. */
  open(name: string, attrs: ReadonlyMap<string, string>): void;
  close(name: string): void;
  /** Character data (text and CDATA), entity-decoded, possibly in several pieces. */
  text(piece: string): void;
}

export interface XmlLimits {
  /** Longest start tag, including its attributes (default 1 MiB). */
  maxTagChars?: number;
  /** Longest DOCTYPE or other `<!...>` directive, which is skipped (default 64 KiB). */
  maxDirectiveChars?: number;
  /** Deepest element nesting (default 256). */
  maxDepth?: number;
}

export interface XmlTokenizer {
  /** Feeds decoded text; throws `XmlSyntaxError` on malformed input. */
  write(chunk: string): void;
  /** Signals end of input; throws if the root element is missing or unclosed. */
  end(): void;
  /** True once the root element has closed: the rest of the input is not read. */
  readonly done: boolean;
}

/** Malformed or over-limit XML. The message reads like Go's: `XML syntax error on line N: ...`. */
/** Malformed XML in a result file: recorded on the file's item, as Sonobuoy does. */
export class XmlSyntaxError extends FathomError {
  override readonly name = 'XmlSyntaxError';
  constructor(message: string) {
    super('FATHOM_RESULTS_INVALID', message);
  }
}

const predefined: Record<string, string> = { lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' };

function localName(qname: string): string {
  const i = qname.indexOf(':');
  return i === -1 ? qname : qname.slice(i + 1);
}

const nameRe = /^[^\s/>="'<!?]+/;

class Tokenizer implements XmlTokenizer {
  #buf = '';
  #pos = 0;
  #linesBefore = 0;
  #pendingCR = false;
  #stack: string[] = [];
  #sawRoot = false;
  #done = false;
  /** Inside a comment or CDATA section that spans writes. */
  #mode: 'markup' | 'comment' | 'cdata' = 'markup';
  readonly #maxTag: number;
  readonly #maxDirective: number;
  readonly #maxDepth: number;

  constructor(
    private readonly handler: XmlHandler,
    limits: XmlLimits = {},
  ) {
    this.#maxTag = limits.maxTagChars ?? 1024 * 1024;
    this.#maxDirective = limits.maxDirectiveChars ?? 64 * 1024;
    this.#maxDepth = limits.maxDepth ?? 256;
  }

  get done(): boolean {
    return this.#done;
  }

  write(chunk: string): void {
    if (this.#done) return;
    // Go turns \r\n and lone \r into \n everywhere; hold a trailing \r until we see what follows.
    let c = (this.#pendingCR ? '\r' : '') + chunk;
    this.#pendingCR = c.endsWith('\r');
    if (this.#pendingCR) c = c.slice(0, -1);
    this.#compact();
    this.#buf += c.replace(/\r\n?/g, '\n');
    this.#run(false);
  }

  end(): void {
    if (this.#done) return;
    if (this.#pendingCR) {
      this.#pendingCR = false;
      this.#buf += '\n';
    }
    this.#run(true);
    if (this.#done) return;
    if (!this.#sawRoot) throw new XmlSyntaxError('EOF');
    this.#fail('unexpected EOF');
  }

  #compact(): void {
    if (this.#pos === 0) return;
    this.#linesBefore += countLines(this.#buf, 0, this.#pos);
    this.#buf = this.#buf.slice(this.#pos);
    this.#pos = 0;
  }

  #fail(msg: string, at = this.#pos): never {
    const line = this.#linesBefore + countLines(this.#buf, 0, at) + 1;
    throw new XmlSyntaxError(`XML syntax error on line ${line}: ${msg}`);
  }

  #run(final: boolean): void {
    while (!this.#done && this.#pos < this.#buf.length) {
      if (this.#mode === 'comment') {
        if (!this.#skipUntil('-->')) return;
        this.#mode = 'markup';
        continue;
      }
      if (this.#mode === 'cdata') {
        if (!this.#cdata()) return;
        this.#mode = 'markup';
        continue;
      }
      if (this.#buf[this.#pos] !== '<') {
        if (!this.#text(final)) return;
        continue;
      }
      if (!this.#markup(final)) return;
    }
  }

  /** Emits text up to the next `<`; keeps a possibly split entity for the next write. */
  #text(final: boolean): boolean {
    const lt = this.#buf.indexOf('<', this.#pos);
    let end = lt === -1 ? this.#buf.length : lt;
    if (lt === -1 && !final) {
      const amp = this.#buf.lastIndexOf('&', end - 1);
      if (amp >= this.#pos && this.#buf.indexOf(';', amp) === -1 && end - amp < 40) end = amp;
    }
    if (end > this.#pos) {
      const raw = this.#buf.slice(this.#pos, end);
      if (this.#stack.length > 0) this.handler.text(this.#decode(raw, this.#pos));
      this.#pos = end;
    }
    return lt !== -1;
  }

  /** Handles one `<...>` construct; false when more input is needed. */
  #markup(final: boolean): boolean {
    const b = this.#buf;
    const p = this.#pos;
    const need = (s: string): boolean | undefined => {
      const have = b.slice(p, p + s.length);
      if (have === s) return true;
      if (s.startsWith(have) && !final) return undefined; // too short to tell
      return false;
    };
    const comment = need('<!--');
    const cdata = need('<![CDATA[');
    if (comment === undefined || cdata === undefined) return false;
    if (comment) {
      this.#pos += 4;
      this.#mode = 'comment';
      return true;
    }
    if (cdata) {
      this.#pos += 9;
      this.#mode = 'cdata';
      return true;
    }
    if (b.length - p < 2 && !final) return false;
    const second = b[p + 1];
    if (second === '!') return this.#directive(final);
    if (second === '?') {
      const close = b.indexOf('?>', p + 2);
      if (close === -1) {
        if (b.length - p > this.#maxTag) this.#fail('processing instruction too long');
        if (final) this.#fail('unexpected EOF');
        return false;
      }
      if (close - p > this.#maxTag) this.#fail('processing instruction too long');
      this.#pos = close + 2;
      return true;
    }
    const close = findTagEnd(b, p + 1);
    if (close === -1) {
      if (b.length - p > this.#maxTag) this.#fail(`tag longer than ${this.#maxTag} characters`);
      if (final) this.#fail('unexpected EOF');
      return false;
    }
    if (close === -2) this.#fail('unescaped < inside quoted string');
    if (close - p > this.#maxTag) this.#fail(`tag longer than ${this.#maxTag} characters`);
    const body = b.slice(p + 1, close);
    this.#pos = close + 1;
    if (second === '/') this.#endTag(body.slice(1).trim(), p);
    else this.#startTag(body, p);
    return true;
  }

  /** `<!DOCTYPE ...>` and friends: skipped, never interpreted. Nested `[...]` and quotes respected. */
  #directive(final: boolean): boolean {
    const b = this.#buf;
    let depth = 0;
    let quote = '';
    for (let i = this.#pos + 2; i < b.length; i++) {
      const ch = b[i];
      if (i - this.#pos > this.#maxDirective) this.#fail('directive (DOCTYPE) too long');
      if (quote) {
        if (ch === quote) quote = '';
      } else if (ch === '"' || ch === "'") quote = ch;
      else if (ch === '[') depth++;
      else if (ch === ']') depth--;
      else if (ch === '>' && depth <= 0) {
        this.#pos = i + 1;
        return true;
      }
    }
    if (b.length - this.#pos > this.#maxDirective) this.#fail('directive (DOCTYPE) too long');
    if (final) this.#fail('unexpected EOF');
    return false;
  }

  #startTag(body: string, at: number): void {
    const selfClosing = body.endsWith('/');
    if (selfClosing) body = body.slice(0, -1);
    const m = nameRe.exec(body);
    if (!m) this.#fail('expected element name after <', at);
    const qname = m[0];
    const attrs = new Map<string, string>();
    let i = qname.length;
    for (;;) {
      while (i < body.length && isSpace(body.charCodeAt(i))) i++;
      if (i >= body.length) break;
      const an = nameRe.exec(body.slice(i));
      if (!an) this.#fail(`invalid attribute in element <${qname}>`, at);
      i += an[0].length;
      while (i < body.length && isSpace(body.charCodeAt(i))) i++;
      if (body[i] !== '=') this.#fail('attribute name without = in element', at);
      i++;
      while (i < body.length && isSpace(body.charCodeAt(i))) i++;
      const q = body[i];
      if (q !== '"' && q !== "'") this.#fail('unquoted or missing attribute value in element', at);
      const close = body.indexOf(q, i + 1);
      if (close === -1) this.#fail('unexpected EOF', at);
      attrs.set(localName(an[0]), this.#decode(body.slice(i + 1, close), at));
      i = close + 1;
    }
    if (this.#stack.length >= this.#maxDepth)
      this.#fail(`elements nested deeper than ${this.#maxDepth}`, at);
    this.#sawRoot = true;
    this.#stack.push(qname);
    this.handler.open(localName(qname), attrs);
    if (selfClosing) this.#endTag(qname, at);
  }

  #endTag(qname: string, at: number): void {
    const top = this.#stack.pop();
    if (top === undefined) this.#fail(`unexpected end element </${qname}>`, at);
    if (top !== qname) this.#fail(`element <${top}> closed by </${qname}>`, at);
    this.handler.close(localName(qname));
    if (this.#stack.length === 0) this.#done = true;
  }

  #skipUntil(marker: string): boolean {
    const i = this.#buf.indexOf(marker, this.#pos);
    if (i === -1) {
      // Drop what cannot start the marker, so a huge comment is not buffered.
      this.#pos = Math.max(this.#pos, this.#buf.length - marker.length + 1);
      return false;
    }
    this.#pos = i + marker.length;
    return true;
  }

  #cdata(): boolean {
    const i = this.#buf.indexOf(']]>', this.#pos);
    const end = i === -1 ? Math.max(this.#pos, this.#buf.length - 2) : i;
    if (end > this.#pos && this.#stack.length > 0)
      this.handler.text(detach(this.#buf.slice(this.#pos, end)));
    this.#pos = i === -1 ? end : i + 3;
    return i !== -1;
  }

  #decode(raw: string, at: number): string {
    if (!raw.includes('&')) return detach(raw);
    return raw.replace(/&([^;&]{0,32})(;?)/g, (_all, ref: string, semi: string) => {
      if (!semi) this.#fail(`invalid character entity &${ref} (no semicolon)`, at);
      const named = predefined[ref];
      if (named !== undefined) return named;
      const num = /^#x([0-9a-fA-F]{1,8})$/.exec(ref) ?? /^#([0-9]{1,10})$/.exec(ref);
      if (num) {
        const cp = parseInt(num[1]!, ref[1] === 'x' ? 16 : 10);
        if (cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff))
          return String.fromCodePoint(cp);
      }
      return this.#fail(`invalid character entity &${ref};`, at);
    });
  }
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}

/** Index of the `>` closing a tag that starts after `from`, skipping quoted values; -1 if not yet seen, -2 on `<` in a value. */
function findTagEnd(b: string, from: number): number {
  let quote = '';
  for (let i = from; i < b.length; i++) {
    const ch = b[i];
    if (quote) {
      if (ch === quote) quote = '';
      else if (ch === '<') return -2;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '>') return i;
  }
  return -1;
}

function countLines(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = s.indexOf('\n', from); i !== -1 && i < to; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

/** A tokenizer that reports to `handler`. */
export function createXmlTokenizer(handler: XmlHandler, limits?: XmlLimits): XmlTokenizer {
  return new Tokenizer(handler, limits);
}

/**
 * A copy of `s` that does not point into the tokenizer's buffer: V8 keeps a whole input chunk
 * alive for as long as any slice of it lives, so names kept for the result tree must be copied.
 */
function detach(s: string): string {
  return s.length === 0 ? s : Buffer.from(s, 'utf8').toString('utf8');
}
