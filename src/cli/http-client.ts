// A small HTTP client for raft-store's API (the CLI and the load generator): keep-alive
// connections, JSON in and out, typed failures carrying the server's {error, code} body.

import http from "node:http";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly leader: string | null = null,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export interface ApiResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

export class HttpClient {
  private readonly agent: http.Agent;
  private readonly host: string;
  private readonly port: number;

  constructor(
    endpoint: string,
    private readonly token: string | null = null,
    sockets = 64,
  ) {
    const url = new URL(endpoint.includes("://") ? endpoint : `http://${endpoint}`);
    if (url.protocol !== "http:")
      throw new Error(`endpoint ${endpoint}: only http:// is supported by this client`);
    this.host = url.hostname.replace(/^\[|\]$/g, "");
    this.port = Number(url.port || 80);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  }

  get endpoint(): string {
    return `${this.host}:${this.port}`;
  }

  close(): void {
    this.agent.destroy();
  }

  request(
    method: string,
    path: string,
    body?: string | Buffer,
    timeoutMs = 30_000,
  ): Promise<ApiResponse> {
    return this.requestWithHeaders(method, path, body, {}, timeoutMs);
  }

  requestWithHeaders(
    method: string,
    path: string,
    body: string | Buffer | undefined,
    extra: Readonly<Record<string, string>>,
    timeoutMs = 30_000,
  ): Promise<ApiResponse> {
    const payload =
      body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body);
    const headers: http.OutgoingHttpHeaders = { ...extra };
    if (payload !== undefined) headers["content-length"] = payload.length;
    if (this.token !== null) headers.authorization = `Bearer ${this.token}`;
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: this.host,
          port: this.port,
          method,
          path,
          headers,
          agent: this.agent,
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", reject);
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks),
            }),
          );
        },
      );
      req.on("timeout", () =>
        req.destroy(new Error(`no answer from ${this.endpoint} in ${timeoutMs} ms`)),
      );
      req.on("error", reject);
      req.end(payload);
    });
  }

  /** A JSON request; a non-2xx answer becomes an ApiError. */
  async json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await this.request(
      method,
      path,
      body === undefined ? undefined : JSON.stringify(body),
    );
    if (response.status >= 200 && response.status < 300)
      return JSON.parse(response.body.toString("utf8")) as T;
    throw apiError(response);
  }
}

export function apiError(response: ApiResponse): ApiError {
  try {
    const parsed = JSON.parse(response.body.toString("utf8")) as {
      error?: unknown;
      code?: unknown;
      leader?: unknown;
    };
    return new ApiError(
      response.status,
      typeof parsed.code === "string" ? parsed.code : "UNKNOWN",
      typeof parsed.error === "string" ? parsed.error : `HTTP ${response.status}`,
      typeof parsed.leader === "string" ? parsed.leader : null,
    );
  } catch {
    return new ApiError(
      response.status,
      "UNKNOWN",
      `HTTP ${response.status}: ${response.body.toString("utf8").slice(0, 200)}`,
    );
  }
}

export function keyPath(key: string): string {
  return `/v1/kv/${encodeURIComponent(key)}`;
}
