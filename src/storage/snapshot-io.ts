// Convenience wrappers over SnapshotWriter and SnapshotReader for callers that have a whole
// stream at hand: writeSnapshot commits only if the source ends cleanly, else aborts.

import type { SnapshotMeta } from "../core/types.js";
import type { SnapshotReader, SnapshotStore } from "./types.js";

export async function writeSnapshot(
  store: SnapshotStore,
  meta: SnapshotMeta,
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): Promise<void> {
  const writer = await store.create(meta);
  try {
    for await (const chunk of source) await writer.write(chunk);
  } catch (error) {
    await writer.abort();
    throw error;
  }
  await writer.commit();
}

/** Reads a whole snapshot into memory, verifying its checksum. */
export async function readSnapshot(reader: SnapshotReader): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of reader.chunks()) chunks.push(chunk);
  return Buffer.concat(chunks);
}
