// Fuzz-style test of the indexer (bounded to ~3 s): random and mutated messages never
// throw, keep the tree invariants, and index the same in random chunks as whole.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { checkIndex, fuzz, fuzzOne, prng } from './fuzz.ts';
import { parseMessage } from './indexer.ts';

it('random and mutated messages: no throw, invariants hold, streaming equals whole-buffer parse', () => {
  const seed = Number(process.env['MIME_FUZZ_SEED'] ?? Date.now() % 1e9);
  const r = fuzz(3000, seed);
  assert.deepEqual(r.failures, [], `seed base ${seed}: replay with MIME_FUZZ_SEED`);
  assert.ok(r.runs > 100, `ran ${r.runs} messages`);
});

it('the invariant checker catches a broken index', () => {
  const m = Buffer.from('Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\n\r\nx\r\n--a--\r\n');
  const ix = parseMessage(m);
  assert.equal(checkIndex(m, ix), null);
  const child = ix.root.children[0]!;
  child.end = ix.root.end + 1;
  assert.match(checkIndex(m, ix) ?? '', /out of order|outside/);
  assert.equal(fuzzOne(m, prng(1)), null);
});
