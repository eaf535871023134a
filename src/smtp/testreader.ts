// Test helper: runs the DATA reader over input split at given offsets. Test-only.
import { DataReader } from './datareader.ts';

export interface Read { consumed: number; message: string; done: boolean; error: string | undefined }

/** Feeds input cut at the given offsets; the message is '' when refused (the caller drops what it got). */
export function readAll(input: Buffer, cuts: number[] = [], maxSize = 1 << 20): Read {
  const r = new DataReader({ maxSize });
  const out: Buffer[] = [];
  let consumed = 0;
  let done = false;
  const bounds = [0, ...cuts.filter((c) => c > 0 && c < input.length).sort((a, b) => a - b), input.length];
  for (let k = 0; k < bounds.length - 1 && !done; k++) {
    let piece = input.subarray(bounds[k], bounds[k + 1]);
    while (piece.length > 0 && !done) {
      const res = r.push(piece);
      out.push(...res.chunks);
      consumed += res.consumed;
      done = res.done;
      piece = piece.subarray(res.consumed);
      if (!done && res.consumed === 0) break;
    }
  }
  return { consumed, message: r.error ? '' : Buffer.concat(out).toString('latin1'), done, error: r.error ? `${r.error.code} ${r.error.message}` : undefined };
}
