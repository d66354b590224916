// The incarnation of a member's Raft data (incarnation.ts): a new one for fresh data (founded or
// joined), the file's otherwise, "unknown" for data older than the file; a damaged file is
// CorruptStateError naming it, never a guess.

import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  decodeIncarnation,
  encodeIncarnation,
  incarnationPath,
  settleIncarnation,
} from "../../../src/server/incarnation.js";
import { CorruptStateError } from "../../../src/storage/errors.js";

const dirs: string[] = [];

after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "raft-store-incarnation-"));
  dirs.push(dir);
  return dir;
}

describe("settleIncarnation", () => {
  it("makes a new one for fresh data, founded or joined, and keeps it", async () => {
    const dir = await dataDir();
    const founded = await settleIncarnation(dir, true, false);
    assert.equal(founded.origin, "founded");
    assert.match(founded.id, /^[0-9a-f]{16}$/);
    assert.deepEqual(await settleIncarnation(dir, false, false), founded, "read back");
    assert.deepEqual(await settleIncarnation(dir, false, true), founded, "--join is ignored");
    const joined = await settleIncarnation(dir, true, true);
    assert.equal(joined.origin, "joined");
    assert.notEqual(joined.id, founded.id, "fresh data is a new incarnation");
    assert.deepEqual(decodeIncarnation(await readFile(incarnationPath(dir)), "f"), joined);
  });

  it("gives data older than the file a new incarnation of unknown origin", async () => {
    const dir = await dataDir();
    const upgraded = await settleIncarnation(dir, false, false);
    assert.equal(upgraded.origin, "unknown");
    assert.deepEqual(await settleIncarnation(dir, false, false), upgraded);
  });

  it("refuses a damaged file, naming it", async () => {
    const dir = await dataDir();
    await settleIncarnation(dir, true, false);
    await writeFile(incarnationPath(dir), "garbage");
    await assert.rejects(settleIncarnation(dir, false, false), (error: unknown) =>
      error instanceof CorruptStateError && error.file === incarnationPath(dir));
  });
});

describe("the incarnation file", () => {
  const good = { id: "0123456789abcdef", origin: "founded" } as const;

  it("round-trips", () => {
    assert.deepEqual(decodeIncarnation(encodeIncarnation(good), "f"), good);
  });

  const bad: Array<[string, string]> = [
    ["empty", ""],
    ["another header", "raft-store incarnation 2\n0123456789abcdef\nfounded\n"],
    ["a short id", "raft-store incarnation 1\n0123456789abcde\nfounded\n"],
    ["an id in capitals", "raft-store incarnation 1\n0123456789ABCDEF\nfounded\n"],
    ["another origin", "raft-store incarnation 1\n0123456789abcdef\nrestored\n"],
    ["no final newline", "raft-store incarnation 1\n0123456789abcdef\nfounded"],
    ["a line more", "raft-store incarnation 1\n0123456789abcdef\nfounded\nmore\n"],
    ["binary", "\u0000\u00ff\u0001"],
  ];
  for (const [what, text] of bad) {
    it(`refuses ${what}`, () => {
      assert.throws(() => decodeIncarnation(Buffer.from(text, "latin1"), "/d/raft/incarnation"),
        (error: unknown) => error instanceof CorruptStateError &&
          error.message.startsWith("corrupt state in /d/raft/incarnation: "));
    });
  }
});
