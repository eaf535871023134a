// Part-tree tests over the corpus in testdata/ (LF files, sent as CRLF unless named lf-*):
// offsets are checked by slicing the bytes, plus types, params, line counts and defects.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodePartText, indexMessageFile, mimeLimits, MimeIndexer, parseEnvelope, parseMessage, preview } from './index.ts';
import type { MessageIndex, MimePart } from './index.ts';

function load(name: string): Buffer {
  const raw = readFileSync(new URL(`testdata/${name}`, import.meta.url));
  return name.startsWith('lf-') ? raw : Buffer.from(raw.toString('latin1').replace(/\n/g, '\r\n'), 'latin1');
}

const body = (m: Buffer, p: MimePart): string => m.subarray(p.bodyStart, p.end).toString('utf8');
const header = (m: Buffer, p: MimePart): string => m.subarray(p.headerStart, p.bodyStart).toString('utf8');
const at = (ix: MessageIndex, ...path: number[]): MimePart => {
  let p = ix.root;
  for (const i of path) {
    const c = p.children[i];
    assert.ok(c, `part ${path.join('.')} exists`);
    p = c;
  }
  return p;
};
const param = (p: MimePart, name: string): string | undefined => p.params.find((x) => x.name === name)?.value;

describe('part tree over real-world shaped messages', () => {
  it('Gmail multipart/alternative: two QP text parts, bodies exclude the CRLF before each boundary', () => {
    const m = load('gmail-alternative.eml');
    const ix = parseMessage(m);
    assert.equal(ix.size, m.length);
    assert.equal(ix.root.end, m.length);
    assert.deepEqual([ix.root.type, ix.root.subtype], ['multipart', 'alternative']);
    assert.equal(ix.root.children.length, 2);
    const [plain, html] = [at(ix, 0), at(ix, 1)];
    assert.equal(body(m, plain), 'Hi Ann,\r\n\r\nSee you at the caf=C3=A9 at 10.\r\nJ=C3=BCrgen\r\n');
    assert.equal(plain.lines, 4);
    assert.equal(plain.size, plain.end - plain.bodyStart);
    assert.equal(header(m, plain), 'Content-Type: text/plain; charset="UTF-8"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n');
    assert.equal(plain.encoding, 'quoted-printable');
    assert.equal(param(plain, 'charset'), 'UTF-8');
    assert.ok(body(m, html).startsWith('<div dir=3D"ltr">') && body(m, html).endsWith('</div></div>\r\n'));
    assert.equal(decodePartText(m.subarray(plain.bodyStart, plain.end), plain), 'Hi Ann,\r\n\r\nSee you at the café at 10.\r\nJürgen\r\n');
    assert.equal(m.subarray(html.end, html.end + 2 + 28).toString(), '\r\n--000000000000a1b2c3d4e5f6--');
    assert.deepEqual(ix.root.defects, []);
  });

  it('Apple Mail mixed > alternative > related with inline image and an RFC 2231 attachment', () => {
    const m = load('apple-related.eml');
    const ix = parseMessage(m);
    assert.equal(ix.parts, 7);
    const alt = at(ix, 0);
    assert.equal(alt.subtype, 'alternative');
    assert.equal(body(m, at(ix, 0, 0)), 'Here are the photos.\r\nCheers, Chloe\r\n');
    assert.equal(at(ix, 0, 0).lines, 2);
    const related = at(ix, 0, 1);
    assert.deepEqual([related.type, related.subtype, param(related, 'type')], ['multipart', 'related', 'text/html']);
    assert.equal(body(m, at(ix, 0, 1, 0)), '<html><body>Here are the photos.<img src="cid:logo@example.fr"></body></html>');
    assert.equal(at(ix, 0, 1, 0).lines, 1);
    const img = at(ix, 0, 1, 1);
    assert.deepEqual([img.type, img.subtype, img.id, img.encoding], ['image', 'png', '<logo@example.fr>', 'base64']);
    assert.deepEqual(img.disposition, { type: 'inline', params: [{ name: 'filename', value: 'logo.png' }] });
    assert.equal(Buffer.from(body(m, img), 'base64').subarray(1, 4).toString(), 'PNG');
    const pdf = at(ix, 1);
    assert.equal(pdf.disposition?.params[0]?.value, 'Résumé final.pdf');
    assert.equal(param(pdf, 'name'), '=?utf-8?Q?R=C3=A9sum=C3=A9_final=2Epdf?=', 'RFC 2047 in params is kept raw for IMAP');
    assert.equal(param(pdf, 'x-unix-mode'), '0644');
    assert.equal(pdf.description, '=?ISO-8859-1?Q?R=E9sum=E9?=');
    assert.equal(pdf.descriptionText, 'Résumé');
    assert.deepEqual(pdf.language, ['fr', 'en']);
    assert.equal(pdf.location, 'http://example.fr/cv.pdf');
    assert.equal(pdf.md5, 'Q2hlY2sgSW50ZWdyaXR5IQ==');
    assert.ok(Buffer.from(body(m, pdf), 'base64').toString('latin1').startsWith('%PDF-1.4'));
    assert.ok(m.subarray(pdf.end).toString().startsWith('\r\n--Apple-Mail=_4E3B1C2D-1111-2222-3333-444455556666--'));
    // The multipart/alternative body runs from its first byte after the header to before the outer delimiter.
    assert.ok(body(m, alt).startsWith('\r\n--Apple-Mail=_7777') && body(m, alt).endsWith('DDDD--\r\n'));
  });

  it('nested message/rfc822: one child, the encapsulated message, with its own multipart tree', () => {
    const m = load('forwarded-rfc822.eml');
    const ix = parseMessage(m);
    const fwd = at(ix, 1);
    assert.deepEqual([fwd.type, fwd.subtype, fwd.children.length], ['message', 'rfc822', 1]);
    const inner = at(ix, 1, 0);
    assert.equal(inner.headerStart, fwd.bodyStart);
    assert.equal(inner.end, fwd.end);
    assert.ok(header(m, inner).startsWith('From: Carol <carol@example.com>\r\n') && header(m, inner).endsWith('boundary="inner"\r\n\r\n'));
    assert.equal(parseEnvelope(m.subarray(inner.headerStart, inner.bodyStart)).messageId, '<q-2026@example.com>');
    assert.equal(body(m, at(ix, 1, 0, 0)), 'Revenue is up.');
    assert.equal(body(m, at(ix, 1, 0, 1)), '<p>Revenue is <b>up</b>.</p>');
    assert.equal(fwd.lines, body(m, fwd).split('\r\n').length - (body(m, fwd).endsWith('\r\n') ? 1 : 0), 'lines of the rfc822 body');
    assert.equal(body(m, at(ix, 0)), 'See the forwarded message below.\r\n');
  });

  it('message/global with RFC 6532 UTF-8 headers is expanded like message/rfc822', () => {
    const m = load('global.eml');
    const ix = parseMessage(m);
    const g = at(ix, 1);
    assert.deepEqual([g.subtype, g.children.length], ['global', 1]);
    assert.equal(body(m, at(ix, 1, 0)), 'Hej! Vi ses på fredag.');
    assert.equal(parseEnvelope(m.subarray(at(ix, 1, 0).headerStart, at(ix, 1, 0).bodyStart)).subject, 'Möte på fredag');
    assert.equal(at(ix, 0).encoding, '8bit');
  });

  it('RFC 2231 continuations, charsets and the extended form winning over a plain duplicate', () => {
    const m = load('rfc2231.eml');
    const ix = parseMessage(m);
    assert.equal(param(at(ix, 0), 'title'), "This is even more ***fun*** isn't it!");
    assert.equal(at(ix, 0).disposition?.params[0]?.value, 'Grüße aus Köln.txt');
    assert.equal(param(at(ix, 1), 'name'), '日本語.txt');
    assert.equal(at(ix, 1).disposition?.params.find((p) => p.name === 'filename')?.value, '日本語.txt');
    assert.equal(body(m, at(ix, 0)), 'x');
  });

  it('multipart/digest children default to message/rfc822 (RFC 2046 §5.1.5)', () => {
    const m = load('digest.eml');
    const ix = parseMessage(m);
    assert.deepEqual([at(ix, 0).type, at(ix, 0).subtype], ['message', 'rfc822']);
    assert.equal(body(m, at(ix, 0, 0)), 'one');
    assert.deepEqual([at(ix, 1).type, at(ix, 1).subtype], ['text', 'plain']);
  });

  it('LF-only line endings: offsets stay byte-exact in the original', () => {
    const m = load('lf-only.eml');
    const ix = parseMessage(m);
    assert.equal(body(m, at(ix, 0)), 'line one\nline two');
    assert.equal(at(ix, 0).lines, 2);
    assert.equal(header(m, at(ix, 1)), 'Content-Type: text/html\n\n');
    assert.equal(body(m, at(ix, 1)), '<p>x</p>');
  });
});

describe('malformed input gives a best-effort tree', () => {
  it('missing close delimiter: the last part runs to the end, the multipart is marked', () => {
    const m = load('malformed-missing-close.eml');
    const ix = parseMessage(m);
    assert.equal(ix.root.children.length, 2);
    assert.deepEqual(ix.root.defects, ['missing-close-boundary']);
    assert.equal(body(m, at(ix, 1)), 'AAECAwQFBgcICQ==\r\n');
    assert.equal(at(ix, 1).end, m.length);
  });

  it('a boundary that never appears: no children, the body is all preamble', () => {
    const m = load('malformed-no-boundary.eml');
    const ix = parseMessage(m);
    assert.deepEqual(ix.root.children, []);
    assert.deepEqual(ix.root.defects, ['no-parts']);
    assert.ok(body(m, ix.root).startsWith('just some text'));
  });

  it('a part header ended by a body line without the empty line', () => {
    const m = load('malformed-no-separator.eml');
    const ix = parseMessage(m);
    const p = at(ix, 0);
    assert.deepEqual(p.defects, ['missing-header-separator']);
    assert.equal(header(m, p), 'Content-Type: text/plain\r\n');
    assert.equal(body(m, p), 'this line is body, not header\r\nsecond body line');
    assert.equal(p.lines, 2);
    assert.equal(at(ix, 1).size, 0, 'an empty part between two delimiters');
  });

  it('header without body, and a message that is only a header', () => {
    const m = Buffer.from('Subject: x\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n--z\r\nContent-Type: text/plain\r\n--z--\r\n');
    const ix = parseMessage(m);
    const p = at(ix, 0);
    assert.deepEqual(p.defects, ['header-unterminated']);
    assert.equal(header(m, p), 'Content-Type: text/plain', 'the CRLF before the delimiter belongs to it');
    assert.deepEqual([p.size, p.lines], [0, 0]);
    const only = parseMessage(Buffer.from('Subject: only\r\nFrom: a@b'));
    assert.deepEqual([only.root.bodyStart, only.root.end, only.root.defects], [24, 24, ['header-unterminated']]);
    assert.deepEqual(parseMessage(Buffer.alloc(0)).root.end, 0);
  });

  it('bad Content-Type defaults to text/plain; bad base64 still indexes', () => {
    const m = Buffer.from('Content-Type: garbage\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!*** @@@\r\n');
    const ix = parseMessage(m);
    assert.deepEqual([ix.root.type, ix.root.subtype, ix.root.defects], ['text', 'plain', ['bad-content-type']]);
    assert.equal(ix.root.lines, 1);
    assert.equal(decodePartText(m.subarray(ix.root.bodyStart, ix.root.end), ix.root), '');
  });

  it('8-bit garbage in headers: fields still found, part still typed', () => {
    const m = Buffer.concat([Buffer.from('Subject: caf'), Buffer.from([0xe9, 0xff, 0x80]), Buffer.from('\r\nContent-Type: text/plain; charset=koi8-r\r\n\r\n'), Buffer.from([0xf0, 0xd2, 0xc9, 0xd7, 0xc5, 0xd4])]);
    const ix = parseMessage(m);
    assert.equal(param(ix.root, 'charset'), 'koi8-r');
    assert.equal(decodePartText(m.subarray(ix.root.bodyStart, ix.root.end), ix.root), 'Привет');
    assert.equal(parseEnvelope(m.subarray(0, ix.root.bodyStart)).subject, 'café\u00ff€');
  });

  it('deep nesting stops at the depth limit and marks the deepest part', () => {
    const depth = mimeLimits.maxDepth + 20;
    let s = '';
    for (let i = 0; i < depth; i++) s += `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n`;
    s += 'Content-Type: text/plain\r\n\r\nleaf\r\n';
    for (let i = depth - 1; i >= 0; i--) s += `--b${i}--\r\n`;
    const ix = parseMessage(Buffer.from(s));
    let p = ix.root;
    let d = 0;
    while (p.children[0]) {
      p = p.children[0];
      d++;
    }
    assert.equal(d, mimeLimits.maxDepth);
    assert.deepEqual(p.defects, ['too-deep']);
    assert.ok(JSON.stringify(ix).length > 0);
  });

  it('too many parts: the rest stays in the parent body', () => {
    const n = mimeLimits.maxParts + 5;
    const s = 'Content-Type: multipart/mixed; boundary=p\r\n\r\n' + '--p\r\n\r\nx\r\n'.repeat(n) + '--p--\r\n';
    const ix = parseMessage(Buffer.from(s));
    assert.equal(ix.parts, mimeLimits.maxParts);
    assert.ok(ix.root.defects.includes('too-many-parts'));
  });

  it('a header block over the size limit is cut and marked, offsets still exact', () => {
    const big = 'X-Big: ' + 'a'.repeat(mimeLimits.maxHeaderBytes + 10) + '\r\n';
    const m = Buffer.from(big + 'Content-Type: text/html\r\n\r\nbody\r\n');
    const ix = parseMessage(m);
    assert.ok(ix.root.defects.includes('header-truncated'));
    assert.equal(body(m, ix.root), 'body\r\n');
    assert.equal(ix.root.subtype, 'plain', 'fields after the cut are not seen');
  });
});

describe('streaming', () => {
  it('byte-at-a-time and odd chunk sizes give the same index as one buffer', () => {
    for (const name of ['apple-related.eml', 'forwarded-rfc822.eml', 'lf-only.eml', 'malformed-no-separator.eml']) {
      const m = load(name);
      const whole = parseMessage(m);
      for (const size of [1, 2, 3, 7, 64]) {
        const ix = new MimeIndexer();
        for (let i = 0; i < m.length; i += size) ix.write(m.subarray(i, i + size));
        assert.deepEqual(ix.end(), whole, `${name} in chunks of ${size}`);
      }
    }
  });

  it('indexMessageFile streams a file and preview reads the chosen part by offset', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mime-'));
    try {
      const m = load('gmail-alternative.eml');
      const path = join(dir, 'msg');
      writeFileSync(path, m);
      const ix = await indexMessageFile(path);
      assert.deepEqual(ix, parseMessage(m));
      assert.deepEqual(JSON.parse(JSON.stringify(ix)), ix, 'JSON-serialisable');
      const text = 'Hi Ann, See you at the café at 10. Jürgen';
      assert.equal(await preview(path, ix), text);
      assert.equal(await preview(m, ix), text);
      const related = load('apple-related.eml');
      assert.equal(await preview(related, parseMessage(related)), 'Here are the photos. Cheers, Chloe');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('envelope of a corpus message with encoded words in several charsets', () => {
  it('GB2312, KOI8-R, ISO-2022-JP, ISO-8859-1, windows-1252 and GBK words decode for display, stay raw for IMAP', () => {
    const m = load('charsets.eml');
    const ix = parseMessage(m);
    const e = parseEnvelope(m.subarray(ix.root.headerStart, ix.root.bodyStart));
    assert.equal(e.subjectText, '“smart” – quotes € / 中文附件');
    assert.equal(e.subject, '=?windows-1252?Q?=93smart=94_=96_quotes_=80?= / =?GBK?B?1tDOxLi9vP4=?=');
    assert.equal(e.from?.[0]?.nameText, '你好，世界');
    assert.deepEqual(e.to?.map((a) => a.nameText), ['Привет мир', '日本']);
    assert.equal(e.cc?.[0]?.nameText, 'Grüße aus Köln');
    assert.equal(e.cc?.[0]?.name, '=?ISO-8859-1?B?R3L832UgYXVzIEv2bG4=?=');
    assert.deepEqual([e.to?.[1]?.mailbox, e.to?.[1]?.host], ['taro', 'example.jp']);
    assert.equal(body(m, ix.root), 'body\r\n');
  });
});
