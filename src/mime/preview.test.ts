import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { htmlToText, PREVIEW_MAX_CHARS, previewText } from './preview.ts';

const plain = { type: 'text', subtype: 'plain', encoding: null, charset: 'utf-8' };

describe('previewText', () => {
  test('plain text: whitespace collapsed, quoted reply lines skipped', () => {
    const body = Buffer.from('Hi Bob,\r\n\r\n  the   report is\tattached.\r\n> old quoted line\r\n>> older\r\nThanks\r\n');
    assert.equal(previewText(body, plain), 'Hi Bob, the report is attached. Thanks');
  });

  test('quoted-printable in ISO-8859-1 and base64 in KOI8-R are decoded', () => {
    assert.equal(previewText(Buffer.from('Caf=E9 cr=E8me=\r\n br=FBl=E9e\r\n'), { type: 'TEXT', subtype: 'Plain', encoding: 'quoted-printable', charset: 'iso-8859-1' }), 'Café crème brûlée');
    assert.equal(previewText(Buffer.from('8NLJ18XU\r\n'), { ...plain, encoding: 'base64', charset: 'koi8-r' }), 'Привет');
  });

  test('HTML: head, style, script and comments dropped, tags removed, entities decoded, blocks separated', () => {
    const html = '<html><head><title>T</title><style>p{color:red}</style></head><body><!-- hidden --><p>Fish&nbsp;&amp;&#32;chips &lt;3</p><div>next&#x2014;line&hellip; &bogus;</div><script>alert(1)</script></body></html>';
    assert.equal(previewText(Buffer.from(html), { ...plain, subtype: 'html' }), 'Fish & chips <3 next—line… &bogus;');
  });

  test('cut at 256 characters, counting code points, never splitting a surrogate pair', () => {
    const long = '😀'.repeat(300);
    const p = previewText(Buffer.from(long), plain);
    assert.equal(Array.from(p).length, PREVIEW_MAX_CHARS);
    assert.equal(p, '😀'.repeat(PREVIEW_MAX_CHARS));
    assert.equal(previewText(Buffer.from('short'), plain), 'short');
  });

  test('non-text parts and empty bodies give an empty preview', () => {
    assert.equal(previewText(Buffer.from('GIF89a'), { type: 'image', subtype: 'gif', encoding: null, charset: null }), '');
    assert.equal(previewText(Buffer.alloc(0), plain), '');
  });

  test('unterminated HTML constructs and bad numeric entities do not throw', () => {
    assert.equal(htmlToText('a<style>never closed'), 'a');
    assert.equal(htmlToText('x &#0; &#xD800; &#99999999; <b'), 'x \ufffd \ufffd \ufffd ');
  });
});
