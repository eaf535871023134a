// Long fuzz run of the MIME indexer: `node bench/fuzz-mime.ts [seconds] [seed]`.
// Prints throughput and any failing seeds (replay one with MIME_FUZZ_SEED in the test).
import { fuzz } from '../src/mime/fuzz.ts';

const seconds = Number(process.argv[2] ?? 60);
const seed = Number(process.argv[3] ?? Date.now() % 1e9);
const start = Date.now();
const r = fuzz(seconds * 1000, seed);
const secs = (Date.now() - start) / 1000;
process.stdout.write(`fuzz-mime: seed ${seed}, ${r.runs} messages, ${(r.bytes / 1e6).toFixed(1)} MB in ${secs.toFixed(1)} s (${Math.round(r.runs / secs)} msg/s)\n`);
for (const f of r.failures) process.stdout.write(`FAIL seed ${f.seed}: ${f.error}\n`);
process.exitCode = r.failures.length > 0 ? 1 : 0;
