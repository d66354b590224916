// File-system steps that durability depends on: fsync of a directory after creating, renaming or
// deleting a file in it, and writing a small file atomically (temp file, fsync, rename, fsync the
// directory), so a crash leaves either the old file or the new one, never a mix.

import { writeSync, writevSync } from "node:fs";
import {
  type FileHandle,
  mkdir,
  open,
  readFile,
  rename,
  rm,
  statfs,
  unlink,
} from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { assert } from "../assert.js";

/** Bytes an unprivileged process may still write on the file system holding `path`. */
export async function freeBytesAt(path: string): Promise<number> {
  const stats = await statfs(path);
  return stats.bavail * stats.bsize;
}

/** `bytes` in MiB with one decimal, for messages about free space. */
export function formatMib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** Makes creations, renames and deletions inside `dir` durable. */
export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.tmp`);
  const handle = await open(temporary, "w");
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
  await fsyncDirectory(dirname(path));
}

/** The file's bytes, or null when it does not exist. */
export async function readFileIfExists(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

/** Removes `path` if it exists; true when there was a file to remove. */
export async function unlinkIfExists(path: string): Promise<boolean> {
  try {
    await unlink(path);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/** Creates `dir` (and parents); fsyncs the parent when it was created. */
export async function ensureDirectory(dir: string): Promise<void> {
  const created = await mkdir(dir, { recursive: true });
  if (created === undefined) return;
  await fsyncDirectory(dirname(created));
  if (created !== dir) await fsyncDirectory(dirname(dir));
}

export async function removeTree(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export function isNotFound(error: unknown): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === "ENOENT";
}

/** Writes all of `bytes` at `position`, looping over short writes. */
export async function writeFully(
  handle: FileHandle,
  bytes: Uint8Array,
  position: number,
): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    const result = await handle.write(bytes, written, bytes.length - written, position + written);
    assert(result.bytesWritten > 0, `wrote 0 bytes at ${position + written}`);
    written += result.bytesWritten;
  }
}

/**
 * writevFully on the calling thread (writevSync): the event loop waits for the write, and for
 * the flush when the file is O_DSYNC, but no thread-pool hand-off and completion wake-up is paid.
 */
export function writevFullySync(fd: number, buffers: readonly Buffer[], position: number): number {
  let total = 0;
  for (const buffer of buffers) total += buffer.length;
  const bytesWritten = writevSync(fd, buffers as Buffer[], position);
  assert(bytesWritten <= total, `writev wrote ${bytesWritten} of ${total} bytes`);
  let done = bytesWritten;
  if (done < total) {
    // A short writev (or more buffers than IOV_MAX): write the rest in one piece.
    const rest = Buffer.concat(buffers).subarray(done);
    for (let at = 0; at < rest.length;) {
      const n = writeSync(fd, rest, at, rest.length - at, position + done);
      assert(n > 0, `wrote 0 bytes at ${position + done}`);
      at += n;
      done += n;
    }
  }
  return total;
}

/** Writes `buffers` back to back at `position`, with one writev() unless it comes up short. */
export async function writevFully(
  handle: FileHandle,
  buffers: readonly Buffer[],
  position: number,
): Promise<number> {
  let total = 0;
  for (const buffer of buffers) total += buffer.length;
  const { bytesWritten } = await handle.writev(buffers as Buffer[], position);
  assert(bytesWritten <= total, `writev wrote ${bytesWritten} of ${total} bytes`);
  if (bytesWritten < total) {
    // A short writev (or more buffers than IOV_MAX): write the rest in one piece.
    const rest = Buffer.concat(buffers).subarray(bytesWritten);
    await writeFully(handle, rest, position + bytesWritten);
  }
  return total;
}

/** Reads exactly `length` bytes at `position`; returns fewer only at the end of the file. */
export async function readFully(
  handle: FileHandle,
  length: number,
  position: number,
): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const result = await handle.read(buf, filled, length - filled, position + filled);
    if (result.bytesRead === 0) break;
    filled += result.bytesRead;
  }
  return filled === length ? buf : buf.subarray(0, filled);
}
