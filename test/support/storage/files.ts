// File surgery for the corruption tests: flip a byte, cut a file, list WAL segments.

import { open, readdir, stat } from "node:fs/promises";
import { join } from "node:path";

export async function flipByte(path: string, offset: number): Promise<void> {
  const handle = await open(path, "r+");
  try {
    const buf = Buffer.alloc(1);
    await handle.read(buf, 0, 1, offset);
    buf[0] = (buf[0] ?? 0) ^ 0x5a;
    await handle.write(buf, 0, 1, offset);
  } finally {
    await handle.close();
  }
}

export async function cutFile(path: string, bytes: number): Promise<void> {
  const handle = await open(path, "r+");
  try {
    await handle.truncate(bytes);
  } finally {
    await handle.close();
  }
}

export async function appendBytes(path: string, bytes: Uint8Array): Promise<void> {
  const handle = await open(path, "a");
  try {
    await handle.write(bytes);
  } finally {
    await handle.close();
  }
}

export async function fileSize(path: string): Promise<number> {
  return (await stat(path)).size;
}

/** WAL segment paths of a data directory, in log order. */
export async function segmentPaths(dir: string): Promise<string[]> {
  const logDir = join(dir, "log");
  return (await readdir(logDir)).filter((name) => name.endsWith(".wal")).sort()
    .map((name) => join(logDir, name));
}
