// The SnapshotStore of every disk backend: one file per snapshot in its own directory, named
// <index>-<term>.snap (20-digit zero-padded, so names sort by index). A snapshot is written to a
// temporary file, fsynced, renamed into place and the directory fsynced, so a crash leaves either
// the complete snapshot or nothing; leftover temporary files are removed on open.
// Streams are async iterables of Uint8Array (see SnapshotReader).

import { crc32c } from "@node-rs/crc32";
import { type FileHandle, open, readdir, rename } from "node:fs/promises";
import { join } from "node:path";
import { assert } from "../../assert.js";
import type { LogIndex, SnapshotMeta } from "../../core/types.js";
import { CorruptSnapshotError, SnapshotFinishedError, StorageClosedError } from "../errors.js";
import {
  ensureDirectory,
  fsyncDirectory,
  readFully,
  unlinkIfExists,
  writeFully,
} from "../fs-util.js";
import type { SnapshotReader, SnapshotStore, SnapshotWriter } from "../types.js";
import {
  decodeHeader,
  decodeHeaderStart,
  decodeTrailer,
  encodeHeader,
  encodeTrailer,
  headerFixedBytes,
  trailerBytes,
} from "./snapshot-format.js";

const namePattern = /^(\d{20})-(\d{20})\.snap$/;
const readChunkBytes = 1024 * 1024;

interface SnapshotFile {
  readonly name: string;
  readonly index: number;
  readonly term: number;
}

export class FileSnapshotStore implements SnapshotStore {
  private closed = false;
  private temporarySequence = 0;
  /** Writers and readers still open; closing the store aborts or releases them. */
  private readonly active = new Set<{ release(): Promise<void> }>();

  private constructor(private readonly dir: string) {}

  static async open(dir: string): Promise<FileSnapshotStore> {
    await ensureDirectory(dir);
    const names = await readdir(dir);
    const leftovers = names.filter((name) => name.endsWith(".tmp"));
    for (const name of leftovers) await unlinkIfExists(join(dir, name));
    if (leftovers.length > 0) await fsyncDirectory(dir);
    return new FileSnapshotStore(dir);
  }

  async create(meta: SnapshotMeta): Promise<SnapshotWriter> {
    this.checkOpen();
    const name = snapshotName(meta);
    this.temporarySequence += 1;
    const temporary = join(this.dir, `.${name}.${process.pid}-${this.temporarySequence}.tmp`);
    const handle = await open(temporary, "wx");
    const header = encodeHeader(meta);
    try {
      await writeFully(handle, header, 0);
    } catch (error) {
      await handle.close();
      await unlinkIfExists(temporary);
      throw error;
    }
    const writer = new FileSnapshotWriter(meta, handle, temporary, join(this.dir, name),
      header.length, this.active);
    this.active.add(writer);
    return writer;
  }

  async latest(): Promise<SnapshotReader | null> {
    this.checkOpen();
    const [newest] = await this.files();
    if (newest === undefined) return null;
    const reader = await FileSnapshotReader.open(join(this.dir, newest.name), newest, this.active);
    this.active.add(reader);
    return reader;
  }

  async open(index: LogIndex): Promise<SnapshotReader | null> {
    this.checkOpen();
    const file = (await this.files()).find((f) => f.index === index);
    if (file === undefined) return null;
    const reader = await FileSnapshotReader.open(join(this.dir, file.name), file, this.active);
    this.active.add(reader);
    return reader;
  }

  async indexes(): Promise<LogIndex[]> {
    this.checkOpen();
    return (await this.files()).map((f) => f.index);
  }

  async list(): Promise<SnapshotMeta[]> {
    this.checkOpen();
    const metas: SnapshotMeta[] = [];
    for (const file of await this.files()) {
      metas.push(await readMeta(join(this.dir, file.name), file));
    }
    return metas;
  }

  async retain(count: number): Promise<void> {
    this.checkOpen();
    assert(Number.isInteger(count) && count >= 1, `retain(${count})`);
    const old = (await this.files()).slice(count);
    for (const file of old) await unlinkIfExists(join(this.dir, file.name));
    if (old.length > 0) await fsyncDirectory(this.dir);
  }

  /** Aborts unfinished writers (a clean shutdown commits nothing) and releases readers. */
  async close(): Promise<void> {
    this.closed = true;
    for (const item of [...this.active]) await item.release();
  }

  /** Committed snapshot files, newest first. */
  private async files(): Promise<SnapshotFile[]> {
    const files: SnapshotFile[] = [];
    for (const name of await readdir(this.dir)) {
      const match = namePattern.exec(name);
      if (match === null) continue;
      files.push({ name, index: Number(match[1]), term: Number(match[2]) });
    }
    return files.sort((a, b) => b.index - a.index || b.term - a.term);
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageClosedError(`snapshot store ${this.dir}`);
  }
}

export function snapshotName(meta: SnapshotMeta): string {
  const pad = (value: number): string => String(value).padStart(20, "0");
  return `${pad(meta.index)}-${pad(meta.term)}.snap`;
}

class FileSnapshotWriter implements SnapshotWriter {
  private state: "open" | "committed" | "aborted" = "open";
  private dataBytes = 0;
  private dataCrc = 0;

  constructor(
    readonly meta: SnapshotMeta,
    private readonly handle: FileHandle,
    private readonly temporary: string,
    private readonly final: string,
    private readonly headerBytes: number,
    private readonly registry: Set<{ release(): Promise<void> }>,
  ) {}

  async release(): Promise<void> {
    if (this.state === "open") await this.abort();
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.checkWritable();
    await writeFully(this.handle, chunk, this.headerBytes + this.dataBytes);
    this.dataCrc = crc32c(chunk, this.dataCrc);
    this.dataBytes += chunk.byteLength;
  }

  async commit(): Promise<void> {
    this.checkWritable();
    this.state = "committed";
    this.registry.delete(this);
    const trailer = encodeTrailer(this.dataBytes, this.dataCrc);
    try {
      await writeFully(this.handle, trailer, this.headerBytes + this.dataBytes);
      await this.handle.sync();
    } finally {
      await this.handle.close();
    }
    await rename(this.temporary, this.final);
    await fsyncDirectory(join(this.final, ".."));
  }

  async abort(): Promise<void> {
    if (this.state === "committed") throw new SnapshotFinishedError("committed");
    if (this.state === "aborted") return;
    this.state = "aborted";
    this.registry.delete(this);
    await this.handle.close();
    await unlinkIfExists(this.temporary);
  }

  private checkWritable(): void {
    if (this.state !== "open") throw new SnapshotFinishedError(this.state);
  }
}

async function readMeta(path: string, file: SnapshotFile): Promise<SnapshotMeta> {
  const handle = await open(path, "r");
  try {
    return (await readHeader(handle, path, file)).meta;
  } finally {
    await handle.close();
  }
}

async function readHeader(
  handle: FileHandle,
  path: string,
  file: SnapshotFile,
): Promise<{ meta: SnapshotMeta; headerBytes: number }> {
  const start = await readFully(handle, headerFixedBytes, 0);
  const metaBytes = decodeHeaderStart(start, path);
  const headerBytes = headerFixedBytes + metaBytes + 4;
  const meta = decodeHeader(await readFully(handle, headerBytes, 0), path);
  if (meta.index !== file.index || meta.term !== file.term) {
    throw new CorruptSnapshotError(path,
      `metadata says ${meta.index}-${meta.term}, the file name disagrees`);
  }
  return { meta, headerBytes };
}

class FileSnapshotReader implements SnapshotReader {
  private released = false;

  private constructor(
    readonly meta: SnapshotMeta,
    readonly dataBytes: number,
    private readonly path: string,
    private readonly handle: FileHandle,
    private readonly dataStart: number,
    private readonly dataCrc: number,
    private readonly registry: Set<{ release(): Promise<void> }>,
  ) {}

  static async open(
    path: string,
    file: SnapshotFile,
    registry: Set<{ release(): Promise<void> }>,
  ): Promise<FileSnapshotReader> {
    const handle = await open(path, "r");
    try {
      const { meta, headerBytes: dataStart } = await readHeader(handle, path, file);
      const size = (await handle.stat()).size;
      if (size < dataStart + trailerBytes) {
        throw new CorruptSnapshotError(path, "file is truncated");
      }
      const trailerBuf = await readFully(handle, trailerBytes, size - trailerBytes);
      const trailer = decodeTrailer(trailerBuf, path);
      if (trailer.dataBytes !== size - dataStart - trailerBytes) {
        throw new CorruptSnapshotError(path, `file size ${size} disagrees with the trailer`);
      }
      return new FileSnapshotReader(meta, trailer.dataBytes, path, handle, dataStart,
        trailer.dataCrc, registry);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async *chunks(): AsyncIterable<Uint8Array> {
    assert(!this.released, `snapshot reader for ${this.path} already used`);
    try {
      let crc = 0;
      for (let done = 0; done < this.dataBytes;) {
        const length = Math.min(readChunkBytes, this.dataBytes - done);
        const chunk = await readFully(this.handle, length, this.dataStart + done);
        if (chunk.length !== length) throw new CorruptSnapshotError(this.path, "file shrank");
        crc = crc32c(chunk, crc);
        done += length;
        yield chunk;
      }
      if (crc !== this.dataCrc) throw new CorruptSnapshotError(this.path, "data checksum mismatch");
    } finally {
      await this.close();
    }
  }

  async close(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.registry.delete(this);
    await this.handle.close();
  }

  release(): Promise<void> {
    return this.close();
  }
}
