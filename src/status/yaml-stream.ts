/**
 * Splits a stream of YAML text into pieces the yaml parser can take one at a time: documents
 * (at `---` / `...` lines, which YAML forbids inside content), and — for a document with a
 * top-level block sequence `items:` (kubectl's List output) — each item on its own, so a list
 * of 100,000 objects never sits in memory as one syntax tree.
 */

/** A piece of YAML and where its lines come from in the stream. */
export interface YamlPiece {
  readonly text: string;
  /** 1-based line of the stream the piece starts on. */
  readonly line: number;
  /** Runs of consecutive lines: [line in the piece, line in the stream], both 1-based, ascending. */
  readonly lineMap: readonly (readonly [number, number])[];
  /**
   * `item`: one element of a top-level `items:` list, re-indented to parse on its own;
   * `document`: a whole document (in which `items:` has been emptied when its items were
   * split off, so the rest is still checked).
   */
  readonly role: 'item' | 'document';
}

const MARKER = /^(---|\.\.\.)(\s|$)/;
const ITEMS = /^items:[ \t]*(#.*)?\r?$/;
const BLANK_OR_COMMENT = /^[ \t]*(#.*)?\r?$/;
const DIRECTIVE = /^%/;

/** The stream line of a piece's line. */
export function streamLine(piece: YamlPiece, line: number): number {
  let run = piece.lineMap[0] ?? [1, piece.line];
  for (const r of piece.lineMap) if (r[0] <= line) run = r;
  return run[1] + (line - run[0]);
}

class Splitter {
  doc: string[] = [];
  docMap: [number, number][] = [];
  /** Only comments, blanks and directives so far: a `---` continues this document. */
  docHasContent = false;
  /** -2: not in items; -1: after `items:`, indentation not known yet; n: the dash column. */
  itemsIndent = -2;
  item: string[] = [];
  itemLine = 0;
  out: YamlPiece[] = [];
  lineNo = 0;

  push(line: string): void {
    this.lineNo++;
    if (MARKER.test(line)) {
      this.endItems();
      if (this.docHasContent) this.flushDoc();
      if (line.startsWith('---')) this.docPush(line);
      else this.flushDoc(); // `...` ends the document
      return;
    }
    if (this.itemsIndent >= -1 && this.inItems(line)) return;
    this.docPush(line);
    if (!BLANK_OR_COMMENT.test(line) && !DIRECTIVE.test(line)) this.docHasContent = true;
    if (ITEMS.test(line)) {
      this.itemsIndent = -1;
      // The items go out one by one; the document keeps an empty list in their place.
      this.doc[this.doc.length - 1] = 'items: []';
    }
  }

  docPush(line: string): void {
    const last = this.docMap[this.docMap.length - 1];
    if (!last || last[1] + (this.doc.length + 1 - last[0]) !== this.lineNo) {
      this.docMap.push([this.doc.length + 1, this.lineNo]);
    }
    this.doc.push(line);
  }

  /** Takes the line when it belongs to the items; false when the items are over. */
  inItems(line: string): boolean {
    // Blank and comment-like lines never end the items: inside a block scalar they are content.
    if (BLANK_OR_COMMENT.test(line)) {
      if (this.item.length > 0) this.item.push(line);
      else this.docPush(line);
      return true;
    }
    const indent = line.length - line.trimStart().length;
    const dash = line[indent] === '-' && /^-(\s|$)/.test(line.slice(indent));
    if (this.itemsIndent === -1) {
      if (!dash) {
        // `items:` followed by something other than a block sequence: leave it to the parser.
        this.doc[this.doc.lastIndexOf('items: []')] = 'items:';
        this.itemsIndent = -2;
        return false;
      }
      this.itemsIndent = indent;
    }
    if (dash && indent === this.itemsIndent) {
      this.flushItem();
      this.itemLine = this.lineNo;
      this.item.push(`${line.slice(0, indent)} ${line.slice(indent + 1)}`);
      return true;
    }
    if (indent > this.itemsIndent && this.item.length > 0) {
      this.item.push(line);
      return true;
    }
    this.endItems();
    return false;
  }

  flushItem(): void {
    if (this.item.length === 0) return;
    this.out.push({
      text: this.item.join('\n'),
      line: this.itemLine,
      lineMap: [[1, this.itemLine]],
      role: 'item',
    });
    this.item = [];
  }

  endItems(): void {
    if (this.itemsIndent === -1) {
      // `items:` then the end of the document: an empty value, as the parser would read it.
      this.doc[this.doc.lastIndexOf('items: []')] = 'items:';
    }
    this.flushItem();
    this.itemsIndent = -2;
  }

  flushDoc(): void {
    if (this.doc.length > 0) {
      const lineMap = this.docMap;
      this.out.push({ text: this.doc.join('\n'), line: lineMap[0]![1], lineMap, role: 'document' });
    }
    this.doc = [];
    this.docMap = [];
    this.docHasContent = false;
  }

  end(): void {
    this.endItems();
    this.flushDoc();
  }
}

/** Yields the pieces of a YAML stream as they complete. */
export async function* splitYaml(chunks: AsyncIterable<string>): AsyncGenerator<YamlPiece> {
  const s = new Splitter();
  let rest = '';
  for await (const chunk of chunks) {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop()!;
    for (const line of lines) s.push(line);
    const ready = s.out;
    s.out = [];
    yield* ready;
  }
  if (rest !== '') s.push(rest);
  s.end();
  yield* s.out;
}
