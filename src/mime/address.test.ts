import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseAddressList } from './address.ts';
import type { Address } from './address.ts';

/** [name, adl, mailbox, host] per address, the order IMAP ENVELOPE sends them in. */
function tuples(list: Address[]): (string | null)[][] {
  return list.map((a) => [a.name, a.adl, a.mailbox, a.host]);
}

describe('parseAddressList', () => {
  test('RFC 5322 §A.1.2 list: display names, bare addr-spec, specials in an atom phrase', () => {
    assert.deepEqual(tuples(parseAddressList('Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>')), [
      ['Mary Smith', null, 'mary', 'x.test'],
      [null, null, 'jdoe', 'example.org'],
      ['Who?', null, 'one', 'y.test'],
    ]);
  });

  test('quoted display name and quoted local part are unquoted, escapes removed', () => {
    assert.deepEqual(tuples(parseAddressList('"Joe Q. Public" <john.q.public@example.com>, "quoted \\"local\\""@example.com')), [
      ['Joe Q. Public', null, 'john.q.public', 'example.com'],
      [null, null, 'quoted "local"', 'example.com'],
    ]);
  });

  test('groups become start and end markers (RFC 9051 §7.5.2), empty groups included', () => {
    const list = parseAddressList('A Group:Ed Jones <c@a.test>,joe@where.test;, Undisclosed recipients:;');
    assert.deepEqual(tuples(list), [
      [null, null, 'A Group', null],
      ['Ed Jones', null, 'c', 'a.test'],
      [null, null, 'joe', 'where.test'],
      [null, null, null, null],
      [null, null, 'Undisclosed recipients', null],
      [null, null, null, null],
    ]);
  });

  test('an unterminated group still gets its end marker', () => {
    assert.deepEqual(tuples(parseAddressList('team: a@b.test, c@d.test')), [
      [null, null, 'team', null],
      [null, null, 'a', 'b.test'],
      [null, null, 'c', 'd.test'],
      [null, null, null, null],
    ]);
  });

  test('obsolete syntax (RFC 5322 §4.4): comments anywhere, source route, CFWS around dots and "@", "." in a phrase', () => {
    assert.deepEqual(tuples(parseAddressList('Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>')), [['Pete', null, 'pete', 'silly.test']]);
    assert.deepEqual(tuples(parseAddressList('<@route1.test,@route2.test:jdoe@example.net>')), [[null, '@route1.test,@route2.test', 'jdoe', 'example.net']]);
    assert.deepEqual(tuples(parseAddressList('john . doe @ example . com')), [[null, null, 'john.doe', 'example.com']]);
    assert.deepEqual(tuples(parseAddressList('John Q. Public <jqp@x.test>')), [['John Q. Public', null, 'jqp', 'x.test']]);
    assert.deepEqual(tuples(parseAddressList(',, a@b.test,,')), [[null, null, 'a', 'b.test']]);
  });

  test('a trailing comment serves as display name when there is none', () => {
    assert.deepEqual(tuples(parseAddressList('jdoe@example.net (John Doe)')), [['John Doe', null, 'jdoe', 'example.net']]);
  });

  test('missing commas between addresses still separate them', () => {
    assert.deepEqual(tuples(parseAddressList('a@b.test c@d.test')), [[null, null, 'a', 'b.test'], [null, null, 'c', 'd.test']]);
    assert.deepEqual(tuples(parseAddressList('<a@b.test> Bee <c@d.test>')), [[null, null, 'a', 'b.test'], ['Bee', null, 'c', 'd.test']]);
    assert.deepEqual(tuples(parseAddressList('John Smith john@example.com')), [['John Smith', null, 'john', 'example.com']]);
  });

  test('RFC 6532 UTF-8 names and addresses, from a Buffer too', () => {
    const list = parseAddressList(Buffer.from(' Jörg Müller\r\n <jörg@bücher.example>', 'utf8'));
    assert.deepEqual(tuples(list), [['Jörg Müller', null, 'jörg', 'bücher.example']]);
  });

  test('encoded words stay raw in name and are decoded in nameText', () => {
    const [a] = parseAddressList('=?UTF-8?B?w6nDqMOg?= =?ISO-8859-1?Q?Andr=E9?= <x@y.test>');
    assert.equal(a?.name, '=?UTF-8?B?w6nDqMOg?= =?ISO-8859-1?Q?Andr=E9?=');
    assert.equal(a?.nameText, 'éèàAndré');
  });

  test('domain literal, missing domain and 8-bit garbage from a Buffer', () => {
    assert.deepEqual(tuples(parseAddressList('user@[192.0.2.1], undisclosed-recipients')), [
      [null, null, 'user', '[192.0.2.1]'],
      [null, null, 'undisclosed-recipients', ''],
    ]);
    const [g] = parseAddressList(Buffer.from([0x43, 0x61, 0x66, 0xe9, 0x20, 0x3c, 0x61, 0x40, 0x62, 0x3e])); // "Caf\xe9 <a@b>"
    assert.deepEqual(g && [g.name, g.mailbox, g.host], ['Café', 'a', 'b']);
  });

  test('never throws on damaged or random input', () => {
    for (const s of ['', ',,, ;; <> @ : <<<>>>', '"unterminated <a@b', 'x@y.test (', '(((', '<@a,@b', ':::;;;', '\\', '[', 'a@', '@b']) {
      assert.doesNotThrow(() => parseAddressList(s), s);
    }
    const alphabet = 'ab@.<>,;:"()[]\\ \t=?é';
    let seed = 7;
    for (let n = 0; n < 2000; n++) {
      let s = '';
      const len = n % 40;
      for (let i = 0; i < len; i++) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        s += alphabet[seed % alphabet.length];
      }
      const list = parseAddressList(s);
      let depth = 0;
      for (const a of list) {
        if (a.host === null && a.mailbox !== null) depth++;
        if (a.host === null && a.mailbox === null) depth--;
        assert.ok(depth === 0 || depth === 1, `group markers balanced for ${JSON.stringify(s)}`);
      }
      assert.equal(depth, 0, `group closed for ${JSON.stringify(s)}`);
    }
  });
});
