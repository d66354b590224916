// When the LMDB state machine's environment can be trusted on open, given that it is written
// through its memory map (MDB_WRITEMAP) and not synced on commit (MDB_NOSYNC).
//
// With both flags the kernel writes the map's dirty pages back in whatever order it likes. A
// process crash loses nothing: the pages are in the page cache, which outlives the process. But
// after an OS crash or a power loss the file may hold a meta page that points at pages never
// written, and LMDB documents that the database may then be corrupt, not merely older. The
// state is a cache of the Raft log and its snapshots, so the rule is: trust it only when the OS
// that wrote it is still running, or when it was flushed after its last write. A marker file
// beside the environment says which:
// - `dirty <boot id>` is written durably before the first write of each session;
// - close() flushes the environment and then writes `clean`.
// On open the state is kept when the marker says `clean`, or `dirty` with the running kernel's
// boot id (only the process stopped). Otherwise (another boot id, a marker that cannot be
// parsed) the environment is deleted, and the node rebuilds the state from its newest snapshot
// and its log (restoreOnStart), which hold everything applied.
// Without a boot id (not Linux), or with the option writeMap false, the environment is written
// without the map, after the same check of a marker an earlier session left, which is removed.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  fsyncDirectory,
  readFileIfExists,
  unlinkIfExists,
  writeFileAtomic,
} from "../storage/fs-util.js";

export const markerFile = "writemap-state";
const header = "raft-store lmdb writemap v1";
/** LMDB's files in an environment opened with noSubdir false. */
const environmentFiles = ["data.mdb", "lock.mdb"] as const;

/** The running kernel's boot id, or null where there is none to read. */
export async function readBootId(): Promise<string | null> {
  try {
    const text = (await readFile("/proc/sys/kernel/random/boot_id", "utf8")).trim();
    return /^[0-9a-f-]{8,64}$/.test(text) ? text : null;
  } catch {
    return null;
  }
}

type Marker = { readonly kind: "clean" } | { readonly kind: "dirty"; readonly bootId: string };

function parseMarker(bytes: Buffer): Marker | null {
  const lines = bytes.toString("utf8").split("\n");
  if (lines.length !== 3 || lines[0] !== header || lines[2] !== "") return null;
  const state = lines[1] ?? "";
  if (state === "clean") return { kind: "clean" };
  const dirty = /^dirty ([0-9a-f-]{8,64})$/.exec(state);
  return dirty?.[1] === undefined ? null : { kind: "dirty", bootId: dirty[1] };
}

function formatMarker(marker: Marker): Buffer {
  const state = marker.kind === "clean" ? "clean" : `dirty ${marker.bootId}`;
  return Buffer.from(`${header}\n${state}\n`, "utf8");
}

/**
 * Why the environment in `dir` cannot be trusted (null: it can, or there is none). `bootId` is
 * the running kernel's (null where there is none). No marker means the environment was never
 * written through the map (a session with the map writes the marker first): it is trusted as an
 * environment of noSync writes only always was.
 */
export async function distrust(dir: string, bootId: string | null): Promise<string | null> {
  let bytes: Buffer | null;
  try {
    bytes = await readFileIfExists(join(dir, markerFile));
  } catch (error) {
    return `${markerFile} cannot be read (${(error as Error).message})`;
  }
  if (bytes === null) return null;
  const marker = parseMarker(bytes);
  if (marker === null) return `${markerFile} is not a marker this version wrote`;
  if (marker.kind === "clean" || marker.bootId === bootId) return null;
  return `the OS restarted (boot ${marker.bootId}) while the data had writes not yet flushed`;
}

/** Deletes the environment's files (not the directory), durably. */
export async function removeEnvironment(dir: string): Promise<void> {
  for (const name of environmentFiles) await unlinkIfExists(join(dir, name));
  await fsyncDirectory(dir);
}

/** Before the first write of a session: the data may from now on hold unflushed writes. */
export async function markDirty(dir: string, bootId: string): Promise<void> {
  await writeFileAtomic(join(dir, markerFile), formatMarker({ kind: "dirty", bootId }));
}

/** After a flush with no write since: the data on disk is whole. */
export async function markClean(dir: string): Promise<void> {
  await writeFileAtomic(join(dir, markerFile), formatMarker({ kind: "clean" }));
}

/**
 * No marker: the environment is written without the memory map. The directory is synced only
 * when there was a marker to remove.
 */
export async function removeMarker(dir: string): Promise<void> {
  if (await unlinkIfExists(join(dir, markerFile))) await fsyncDirectory(dir);
}
