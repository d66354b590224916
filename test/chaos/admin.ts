// The few cluster administration calls the nemesis makes over a member's HTTP API, each with a
// timeout: who leads, who is a member, remove a member; and the read counters of each member.
// Failures are answers (null / false), never exceptions: the nemesis works against a cluster it
// is busy breaking.

export interface MemberEntry {
  readonly id: string;
  readonly address: string;
  readonly role: string;
}

export interface ClusterViewLite {
  readonly leader: string | null;
  readonly term: number;
  readonly members: readonly MemberEntry[];
}

function isClusterView(value: unknown): value is ClusterViewLite {
  if (typeof value !== "object" || value === null) return false;
  const record = value as Record<string, unknown>;
  const leaderOk = record.leader === null || typeof record.leader === "string";
  return Array.isArray(record.members) && leaderOk;
}

/** GET /v1/cluster at `http` (host:port), or null on any failure. */
export async function clusterView(http: string, timeoutMs = 1000): Promise<ClusterViewLite | null> {
  try {
    const response = await fetch(`http://${http}/v1/cluster`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) return null;
    const body: unknown = await response.json();
    return isClusterView(body) ? body : null;
  } catch {
    return null;
  }
}

/**
 * The reads each member granted as leader since it last started, by path (lease, read_index),
 * from its /metrics, or null for a member that does not answer.
 */
export async function leaderReads(http: string, timeoutMs = 1000):
  Promise<{ lease: number; readIndex: number } | null> {
  try {
    const response = await fetch(`http://${http}/metrics`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) return null;
    const text = await response.text();
    const series = (path: string): RegExp =>
      new RegExp(`^raft_store_leader_reads_total\\{path="${path}"\\} (\\d+)`, "m");
    const count = (path: string): number => Number(series(path).exec(text)?.[1] ?? 0);
    return { lease: count("lease"), readIndex: count("read_index") };
  } catch {
    return null;
  }
}

/** The leader the first answering member names, or null when none answers or knows one. */
export async function currentLeader(https: readonly string[]): Promise<number | null> {
  for (const http of https) {
    const view = await clusterView(http);
    if (view?.leader !== null && view?.leader !== undefined) return Number(view.leader);
  }
  return null;
}

/**
 * What each member sees, one clause each (why running members do not agree on a leader): its
 * leader and term, the members it lists, and those it lists without a peer address.
 */
export async function describeViews(
  members: readonly { readonly id: number; readonly http: string }[],
): Promise<string> {
  const clauses = await Promise.all(members.map(async ({ id, http }) => {
    const view = await clusterView(http);
    if (view === null) return `${id}: no answer`;
    const ids = view.members.map((m) => m.id).join(",");
    const unaddressed = view.members.filter((m) => m.address === "").map((m) => m.id);
    const note = unaddressed.length === 0 ? "" : ` (no peer address: ${unaddressed.join(",")})`;
    return `${id}: leader ${view.leader ?? "none"} term ${view.term}, members [${ids}]${note}`;
  }));
  return clauses.join("; ");
}

/** Whether the first member answering lists `id` among its members; null if none answers. */
export async function listsMember(https: readonly string[], id: number): Promise<boolean | null> {
  for (const http of https) {
    const view = await clusterView(http);
    if (view !== null) return view.members.some((m) => m.id === String(id));
  }
  return null;
}

/** DELETE /v1/cluster/members/<id> at `http`; true on a 2xx answer. */
export async function requestRemoval(http: string, id: number, timeoutMs = 3000): Promise<boolean> {
  try {
    const response = await fetch(`http://${http}/v1/cluster/members/${id}`, {
      method: "DELETE",
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/**
 * Removes member `id` through any of `https`, retrying until `ms` pass, and returns whether the
 * cluster then no longer lists it (a timed-out request may still have worked, so ask).
 */
export async function removeMember(
  https: readonly string[],
  id: number,
  ms = 10_000,
): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    for (const http of https) {
      if (await requestRemoval(http, id)) break;
    }
    if ((await listsMember(https, id)) === false) return true;
    await sleep(300);
  }
  return (await listsMember(https, id)) === false;
}

/** Waits until the cluster lists `id` as a voter; false after `ms`. */
export async function waitVoter(
  https: () => readonly string[],
  id: number,
  ms: number,
): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    for (const http of https()) {
      const view = await clusterView(http);
      const entry = view?.members.find((m) => m.id === String(id));
      if (entry !== undefined && entry.role === "voter") return true;
      if (view !== null) break;
    }
    await sleep(200);
  }
  return false;
}
