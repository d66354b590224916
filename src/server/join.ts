// Joining a running cluster (--join <http address of any member>): the new server first asks
// for the members' peer addresses (so it can answer whoever leads), starts empty, then asks the
// cluster to add it. As a voter it joins as a learner, catches up, and is promoted (addVoter).

import { ConfigError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { ClusterView } from "./api.js";
import type { ServerConfig } from "./config.js";
import { parseNodeId } from "./config.js";

const attemptsMax = 30;

function joinUrl(config: ServerConfig, path: string): string {
  const scheme = config.tls === null ? "http" : "https";
  return `${scheme}://${config.join ?? ""}${path}`;
}

function headers(config: ServerConfig): Record<string, string> {
  const out: Record<string, string> = { "content-type": "application/json" };
  if (config.token !== null) out.authorization = `Bearer ${config.token}`;
  return out;
}

/** The cluster's members (id → peer address), as the member at --join reports them. */
export async function membersToJoin(config: ServerConfig): Promise<Map<number, string>> {
  let response: Response;
  try {
    response = await fetch(joinUrl(config, "/v1/cluster"), { headers: headers(config) });
  } catch (error) {
    throw new ConfigError(`--join ${config.join}: cannot reach it (${(error as Error).message})`);
  }
  if (!response.ok)
    throw new ConfigError(`--join ${config.join}: GET /v1/cluster answered ${response.status}`);
  return peersOf(config, (await response.json()) as ClusterView);
}

/**
 * The peers to start with, from a member's view of the cluster. Every member needs an address:
 * this server sends to its peers only over connections it dials itself, so a member it cannot
 * dial would hear nothing back from it. Were that member the leader, the new server would get
 * the leader's messages and never answer them, and so never catch up: refused here, loudly.
 */
function peersOf(config: ServerConfig, view: ClusterView): Map<number, string> {
  if (view.members.length === 0) {
    throw new ConfigError(`--join ${config.join}: that server lists no members (is it joining?)`);
  }
  const members = new Map<number, string>();
  const unreachable: number[] = [];
  for (const m of view.members) {
    const id = parseNodeId(m.id);
    if (id === config.id) {
      throw new ConfigError(
        `--join: the cluster already has a member ${config.id}; remove it first or pick another id`,
      );
    }
    if (m.address === "") unreachable.push(id);
    else members.set(id, m.address);
  }
  if (unreachable.length > 0) {
    throw new ConfigError(
      `--join ${config.join}: the cluster's configuration has no peer address for member(s) ` +
        `${unreachable.join(", ")}; this server could not answer them`,
    );
  }
  return members;
}

/** Asks the cluster to add this server, retrying while it is busy (an election, a change). */
export async function joinCluster(config: ServerConfig, logger: Logger): Promise<void> {
  const body = JSON.stringify({
    id: String(config.id),
    address: config.advertisePeer,
    role: "voter",
  });
  for (let attempt = 1; ; attempt++) {
    const response = await fetch(joinUrl(config, "/v1/cluster/members"), {
      method: "POST",
      headers: headers(config),
      body,
    }).catch((error: unknown) => error as Error);
    if (!(response instanceof Error) && response.ok) {
      logger.info("joined the cluster", { id: config.id });
      return;
    }
    const reason =
      response instanceof Error ? response.message : `${response.status} ${await response.text()}`;
    if (attempt >= attemptsMax)
      throw new Error(`joining failed after ${attempt} attempts: ${reason}`);
    logger.warn("join attempt failed, retrying", { attempt, reason });
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
