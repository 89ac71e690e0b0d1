import { describe, expect, it } from 'vitest';
import { createXmlTokenizer, type XmlHandler, type XmlLimits, XmlSyntaxError } from './xml.js';

/** Tokenizes `chunks` and returns the events, adjacent text merged. */
function events(chunks: string[], limits?: XmlLimits): string[] {
  const out: string[] = [];
  const handler: XmlHandler = {
    open: (name, attrs) =>
      out.push(`<${name}${[...attrs].map(([k, v]) => ` ${k}=${JSON.stringify(v)}`).join('')}>`),
    close: (name) => out.push(`</${name}>`),
    text: (t) => {
      const last = out.length - 1;
      if (last >= 0 && out[last]!.startsWith('#')) out[last] += t;
      else out.push(`#${t}`);
    },
  };
  const tok = createXmlTokenizer(handler, limits);
  for (const c of chunks) tok.write(c);
  tok.end();
  return out;
}

const doc = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE testsuite [ <!ENTITY x "y"> <!-- ] > --> ]>
<!-- a comment with <tags> & stuff -->
<ns:root a='1' ns:b="two &amp; &lt;three&gt;" c="&#65;&#x42;">
  text &quot;q&quot; &apos;s&apos; &#x1F600;\r\nline2\rline3
  <![CDATA[raw <b> & ]] stuff]]>
  <empty/>
  <x:child>in</x:child>
</ns:root>
trailing garbage <<< & is not read`;

const expected = [
  '<root a="1" b="two & <three>" c="AB">',
  `#\n  text "q" 's' 😀\nline2\nline3\n  raw <b> & ]] stuff\n  `,
  '<empty>',
  '</empty>',
  '#\n  ',
  '<child>',
  '#in',
  '</child>',
  '#\n',
  '</root>',
];

describe('XML tokenizer', () => {
  it('reads elements, attributes, entities, CDATA; skips prolog, comments and DOCTYPE; stops after the root', () => {
    expect(events([doc])).toEqual(expected);
  });

  it('gives the same events whatever the chunk boundaries', () => {
    for (let i = 1; i < doc.length; i++) {
      expect(events([doc.slice(0, i), doc.slice(i)]), `split at ${i}`).toEqual(expected);
    }
    expect(events([...doc])).toEqual(expected);
  });

  it.each([
    ['<a>&foo;</a>', /line 1: invalid character entity &foo;/],
    ['<a>&amp</a>', /no semicolon/],
    ['<a>&#0;</a>', /invalid character entity &#0;/],
    ['<a>\n<b></a>', /line 2: element <b> closed by <\/a>/],
    ['<a></b>', /element <a> closed by <\/b>/],
    ['<a b=c></a>', /unquoted or missing attribute value/],
    ['<a b></a>', /attribute name without =/],
    ['<a b="<"></a>', /unescaped < inside quoted string/],
    ['<a><b>', /unexpected EOF/],
    ['<a', /unexpected EOF/],
  ])('rejects %j', (input, message) => {
    expect(() => events([input])).toThrow(message);
    expect(() => events([input])).toThrow(XmlSyntaxError);
  });

  it('says EOF for an empty document', () => {
    expect(() => events(['  \n'])).toThrow(/^EOF$/);
    expect(() => events([''])).toThrow(/^EOF$/);
  });

  it('never expands entities declared in a DOCTYPE (billion laughs is just an unknown entity)', () => {
    const lol = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<testsuite name="&lol9;"/>`;
    expect(() => events([lol])).toThrow(/invalid character entity &lol9;/);
    const xxe = `<!DOCTYPE t [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><testsuite>&xxe;</testsuite>`;
    expect(() => events([xxe])).toThrow(/invalid character entity &xxe;/);
  });

  it('bounds a DOCTYPE, a tag and the nesting depth', () => {
    const bigDoctype = `<!DOCTYPE x [${'<!ENTITY a "b">'.repeat(10_000)}]><x/>`;
    expect(() => events([bigDoctype], { maxDirectiveChars: 1000 })).toThrow(/DOCTYPE\) too long/);
    const bigAttr = `<x a="${'y'.repeat(5000)}"/>`;
    expect(() => events([bigAttr], { maxTagChars: 1000 })).toThrow(/tag longer than 1000/);
    // Fed in small pieces the limit still holds (the tag is never complete in the buffer).
    const pieces = bigAttr.match(/.{1,100}/gs)!;
    expect(() => events(pieces, { maxTagChars: 1000 })).toThrow(/tag longer than 1000/);
    const deep = '<a>'.repeat(300) + '</a>'.repeat(300);
    expect(() => events([deep], { maxDepth: 256 })).toThrow(/nested deeper than 256/);
  });

  it('streams a huge comment and a huge text without buffering them', () => {
    let textLen = 0;
    const tok = createXmlTokenizer({
      open: () => {},
      close: () => {},
      text: (t) => (textLen += t.length),
    });
    tok.write('<!--');
    for (let i = 0; i < 200; i++) tok.write('x'.repeat(100_000));
    tok.write('--><r>');
    for (let i = 0; i < 200; i++) tok.write('y'.repeat(100_000));
    tok.write('</r>');
    tok.end();
    expect(textLen).toBe(20_000_000);
    expect(tok.done).toBe(true);
  });
});
