// Which life of a member's Raft data this is. A member's votes and acknowledgements live in its
// Raft directory; a member restarted on an emptied one has forgotten them, and a quorum that
// counts it could lose committed writes. Raft cannot see that: the member looks like any
// founder starting late. So each Raft directory gets a random incarnation id when it is made,
// kept in `<data>/raft/incarnation`, and each member records its id in the replicated state
// (the member directory) when it registers. A member that founded its data directory anew (not
// through --join) but finds its id recorded under another incarnation has lost its data, and
// is stopped with DataLostError. The check is made by the leader, in the log's order (see
// Service.register), so it cannot race a catch-up.
//
// It is best effort: a member restarted this way while the cluster has no leader can vote
// before it learns it must stop. The README (Replacing a member) gives the procedure that
// needs no such check: remove the member, empty its data directory, and start it with --join.

import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { RaftStoreError } from "../errors.js";
import { CorruptStateError } from "../storage/errors.js";
import { ensureDirectory, readFileIfExists, writeFileAtomic } from "../storage/fs-util.js";

/**
 * How this Raft directory came to be: made by founding a cluster (--initial-cluster), made by
 * joining one (--join: the member was added, or re-added after removal), or older than this
 * file (unknown: its registration claims the id as a joined member's would).
 */
export const origins = ["founded", "joined", "unknown"] as const;
export type Origin = (typeof origins)[number];

export interface Incarnation {
  /** 16 hex digits, random. */
  readonly id: string;
  readonly origin: Origin;
}

/** The member's id is recorded under another incarnation of its data, which this one lost. */
export class DataLostError extends RaftStoreError {
  override readonly code = "DATA_LOST";
  constructor(
    readonly memberId: number,
    readonly recorded: string,
    readonly current: string,
  ) {
    super(
      `member ${memberId} lost its Raft data: its data directory was made anew (incarnation ` +
        `${current}), but the cluster knows member ${memberId} from data it no longer has ` +
        `(incarnation ${recorded}), with the votes and entries it acknowledged there`,
    );
  }
}

const header = "raft-store incarnation 1";
const idPattern = /^[0-9a-f]{16}$/;

export function incarnationPath(dataDir: string): string {
  return join(dataDir, "raft", "incarnation");
}

export function isIncarnationId(text: unknown): text is string {
  return typeof text === "string" && idPattern.test(text);
}

export function isOrigin(text: unknown): text is Origin {
  return typeof text === "string" && (origins as readonly string[]).includes(text);
}

export function encodeIncarnation(incarnation: Incarnation): Buffer {
  return Buffer.from(`${header}\n${incarnation.id}\n${incarnation.origin}\n`);
}

/** Parses the file's bytes; anything but the exact format is CorruptStateError. */
export function decodeIncarnation(bytes: Buffer, path: string): Incarnation {
  const lines = bytes.toString("utf8").split("\n");
  const [first, id, origin, rest] = lines;
  if (first !== header || lines.length !== 4 || rest !== "") {
    throw new CorruptStateError(path, `not an incarnation file (want "${header}", an id, an ` +
      "origin, one per line)");
  }
  if (!isIncarnationId(id)) throw new CorruptStateError(path, "the id is not 16 hex digits");
  if (!isOrigin(origin)) {
    throw new CorruptStateError(path, `the origin is not one of ${origins.join(", ")}`);
  }
  return { id, origin };
}

/**
 * This member's incarnation. `fresh`: its Raft data holds no identity yet (a new directory, or
 * one whose making a crash cut short): a new incarnation is made, founded or joined as
 * `joining` says. Otherwise the file's, or, for data older than the file, a new one whose
 * origin is unknown. Written durably before the member starts.
 */
export async function settleIncarnation(
  dataDir: string,
  fresh: boolean,
  joining: boolean,
): Promise<Incarnation> {
  const path = incarnationPath(dataDir);
  if (!fresh) {
    const bytes = await readFileIfExists(path);
    if (bytes !== null) return decodeIncarnation(bytes, path);
  }
  const incarnation: Incarnation = {
    id: randomBytes(8).toString("hex"),
    origin: fresh ? (joining ? "joined" : "founded") : "unknown",
  };
  await ensureDirectory(join(dataDir, "raft"));
  await writeFileAtomic(path, encodeIncarnation(incarnation));
  return incarnation;
}
