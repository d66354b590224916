// One HTTP request of a chaos client, with a hard deadline, and what its result means for the
// history (CONTRACTS.md "Server"): 2xx is done; 4xx and 503 were not applied ("fail"); 500,
// 504, a timeout or a dropped connection leave the outcome unknown ("info"). A refused
// connection never reached a server, so it is a "fail" too.

import http from "node:http";

export type CallResult =
  | { readonly status: number; readonly body: string }
  | { readonly error: string; readonly code: string | null };

export type Outcome =
  | { readonly kind: "ok"; readonly status: number; readonly body: string }
  | { readonly kind: "fail"; readonly why: string }
  | { readonly kind: "info"; readonly why: string };

/** Maps a call's result to the history's outcome (404 is left to the caller: "ok" here). */
export function classify(result: CallResult): Outcome {
  if ("error" in result) {
    if (result.code === "ECONNREFUSED") return { kind: "fail", why: "connection refused" };
    return { kind: "info", why: result.error };
  }
  const { status, body } = result;
  if (status >= 200 && status < 300) return { kind: "ok", status, body };
  if (status === 404) return { kind: "ok", status, body };
  if ((status >= 400 && status < 500) || status === 503) {
    return { kind: "fail", why: `${status} ${body.slice(0, 200)}` };
  }
  return { kind: "info", why: `${status} ${body.slice(0, 200)}` };
}

/** Keep-alive connections per member, shared by all clients. */
export class HttpPool {
  private readonly agents = new Map<string, http.Agent>();

  private agent(endpoint: string): http.Agent {
    let agent = this.agents.get(endpoint);
    if (agent === undefined) {
      agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
      this.agents.set(endpoint, agent);
    }
    return agent;
  }

  /** One request to `endpoint` (host:port); never throws. */
  call(
    endpoint: string,
    method: string,
    path: string,
    body: string | null,
    timeoutMs: number,
  ): Promise<CallResult> {
    const [host, port] = endpoint.split(":") as [string, string];
    const payload = body === null ? null : Buffer.from(body, "utf8");
    const headers: http.OutgoingHttpHeaders = {};
    if (payload !== null) headers["content-length"] = payload.length;
    return new Promise((resolve) => {
      let settled = false;
      const finish = (result: CallResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const req = http.request(
        { host, port: Number(port), method, path, headers, agent: this.agent(endpoint) },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("error", (error) => finish({ error: error.message, code: null }));
          res.on("end", () => finish({
            status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"),
          }));
        },
      );
      const timer = setTimeout(() => {
        finish({ error: `no answer in ${timeoutMs} ms`, code: "TIMEOUT" });
        req.destroy();
      }, timeoutMs);
      req.on("error", (error: NodeJS.ErrnoException) => {
        finish({ error: error.message, code: error.code ?? null });
      });
      req.end(payload ?? undefined);
    });
  }

  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }
}
