// Opens an uploaded file as an archive: zip (central directory, random access), tar and
// tgz (sequential), or a single mbox file, plain or gzipped.
import { createReadStream } from 'node:fs';
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ContentBudget, ContentLimitError, type ArchiveEntry, type ArchiveKind, type ArchiveReader } from './archive.ts';
import { normalizePath } from './names.ts';
import { readTar } from './tar.ts';
import { ZipReader } from './zip.ts';

/** maxContent: octets the content may inflate to in one pass (zip entries, gzip streams); past it the pass fails. */
export async function openArchive(file: string, kind: ArchiveKind, name: string, maxContent = Number.MAX_SAFE_INTEGER): Promise<ArchiveReader> {
  const budget = new ContentBudget(maxContent);
  if (kind === 'zip') return ZipReader.open(file, budget);
  return new StreamReader(file, kind, name, budget);
}

/** tar, tgz, gz and mbox: read front to back; each pass reads the file again. */
class StreamReader implements ArchiveReader {
  readonly #file: string;
  readonly #kind: Exclude<ArchiveKind, 'zip'>;
  readonly #name: string;
  readonly #budget: ContentBudget;
  position = 0;

  constructor(file: string, kind: Exclude<ArchiveKind, 'zip'>, name: string, budget: ContentBudget) {
    this.#file = file;
    this.#kind = kind;
    this.#name = name;
    this.#budget = budget;
  }

  async close(): Promise<void> {}

  entries(): AsyncIterable<ArchiveEntry> {
    this.position = 0;
    this.#budget.reset();
    const source = this.#source();
    if (this.#kind === 'tar' || this.#kind === 'tgz') return readTar(source);
    // A single mbox file: named after the upload, without .gz (and .mbox, by mboxMailbox).
    const entry: ArchiveEntry = { path: normalizePath(this.#name.replace(/\.gz$/i, '')), type: 'file', mtime: undefined, body: () => source };
    return (async function* () {
      yield entry;
    })();
  }

  #source(): AsyncIterable<Buffer> {
    const self = this;
    async function* raw(): AsyncGenerator<Buffer> {
      for await (const chunk of createReadStream(self.#file) as AsyncIterable<Buffer>) {
        self.position += chunk.length;
        yield chunk;
      }
    }
    if (this.#kind === 'tar' || this.#kind === 'mbox') return raw(); // no larger than the file
    const budget = this.#budget;
    return (async function* () {
      const gunzip = createGunzip(); // RFC 1952; concatenated members are read as one stream
      pipeline(Readable.from(raw()), gunzip, () => {}); // errors reach the loop below through gunzip
      try {
        for await (const chunk of gunzip as AsyncIterable<Buffer>) {
          budget.take(chunk.length);
          yield chunk;
        }
      } catch (e) {
        if (e instanceof ContentLimitError) throw e;
        throw new Error(`corrupt gzip data: ${(e as Error).message}`);
      } finally {
        gunzip.destroy(); // a reader that stops early closes the file
      }
    })();
  }
}
