// The state an OS crash can leave a stopped member's LMDB state machine in, for the chaos
// nemesis: the state is written through its memory map and not synced per apply
// (src/kv/lmdb-writemap.ts), so after an OS crash its file may hold pages never written. This
// makes a member's state look like that: its marker names another boot and its data file is
// garbage. The member must then discard the state and rebuild it from its snapshot and log.
// A member without such a state (in memory, or LMDB without the map) is left as it is.

import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { markerFile } from "../../src/kv/lmdb-writemap.js";

/** A boot id no kernel of this machine has. */
const otherBoot = "00000000-0000-4000-8000-000000000000";

/** Spoils the LMDB state in member data directory `dataDir`; returns what it did. */
export async function spoilState(dataDir: string): Promise<string> {
  const kv = join(dataDir, "kv");
  const marker = await readFile(join(kv, markerFile), "utf8").catch(() => null);
  if (marker === null) return "no LMDB state written through its map";
  const [header] = marker.split("\n");
  await writeFile(join(kv, markerFile), `${header ?? ""}\ndirty ${otherBoot}\n`);
  await writeFile(join(kv, "data.mdb"), Buffer.alloc(64 * 1024, 0xa5));
  return "LMDB state spoiled";
}
