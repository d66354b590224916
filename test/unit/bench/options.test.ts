// The benchmarks' option parsing: a bad value is a BenchOptionError naming the option and what
// it must be, never a NaN that runs a case for no time or forever.

import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  BenchOptionError,
  choice,
  choiceList,
  directoryOption,
  integerList,
  numberOption,
  parseOptions,
  positiveInteger,
} from "../../../bench/report.js";

const known = ["seconds", "clients", "backends", "mode", "dir"];
const parse = (...args: string[]): Map<string, string> => parseOptions(args, known);

function rejects(run: () => unknown, message: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof BenchOptionError, `a BenchOptionError, not ${String(error)}`);
    assert.match(error.message, message);
    return true;
  });
}

test("unknown options and options without a value are rejected", () => {
  rejects(() => parse("--speed", "3"), /bad option --speed; options: --seconds <value>/);
  rejects(() => parse("--seconds"), /bad option --seconds/);
  assert.equal(parse("--seconds", "2").get("seconds"), "2");
});

test("numbers: absent gives the fallback, and each rule is enforced", () => {
  assert.equal(numberOption(parse(), "seconds", 3, "a number > 0"), 3);
  assert.equal(numberOption(parse("--seconds", "0.5"), "seconds", 3, "a number > 0"), 0.5);
  assert.equal(numberOption(parse("--seconds", "0"), "seconds", 3, "a number >= 0"), 0);
  for (const bad of ["abc", "", " ", "0", "-1", "Infinity", "NaN"]) {
    rejects(() => numberOption(parse("--seconds", bad), "seconds", 3, "a number > 0"),
      /--seconds must be a number > 0, got "/);
  }
  rejects(() => numberOption(parse("--seconds", "-0.1"), "seconds", 3, "a number >= 0"),
    /must be a number >= 0/);
  rejects(() => numberOption(parse("--seconds", "1.5"), "seconds", 3, "an integer >= 0"),
    /must be an integer >= 0, got "1.5"/);
  assert.equal(positiveInteger(parse("--seconds", "7"), "seconds", 3), 7);
  rejects(() => positiveInteger(parse("--seconds", "0"), "seconds", 3),
    /--seconds must be an integer >= 1, got "0"/);
  rejects(() => positiveInteger(parse("--seconds", "1e20"), "seconds", 3), /integer >= 1/);
});

test("integer lists: every value checked", () => {
  assert.deepEqual(integerList(parse(), "clients", "1,16"), [1, 16]);
  assert.deepEqual(integerList(parse("--clients", "4,256"), "clients", "1"), [4, 256]);
  rejects(() => integerList(parse("--clients", "4,x"), "clients", "1"),
    /--clients: each value must be an integer >= 1, got "x"/);
  rejects(() => integerList(parse("--clients", "4,"), "clients", "1"), /got ""/);
});

test("choices: one value or a list, each from the allowed ones", () => {
  const kinds = ["wal", "lmdb", "level"] as const;
  assert.deepEqual(choiceList(parse(), "backends", "wal,lmdb", kinds), ["wal", "lmdb"]);
  assert.deepEqual(choiceList(parse("--backends", "level"), "backends", "wal", kinds), ["level"]);
  rejects(() => choiceList(parse("--backends", "wal,rocks"), "backends", "wal", kinds),
    /--backends: "rocks" is not one of wal, lmdb, level/);
  assert.equal(choice(parse(), "mode", "on", ["on", "off"]), "on");
  assert.equal(choice(parse("--mode", "off"), "mode", "on", ["on", "off"]), "off");
  rejects(() => choice(parse("--mode", "on,off"), "mode", "on", ["on", "off"]),
    /--mode: "on,off" is not one of on, off/);
});

test("--dir must name an existing directory", async () => {
  assert.equal(await directoryOption(parse()), tmpdir());
  const dir = await mkdtemp(join(tmpdir(), "raft-store-options-"));
  try {
    assert.equal(await directoryOption(parse("--dir", dir)), dir);
    const file = join(dir, "a-file");
    await writeFile(file, "x");
    for (const bad of [join(dir, "missing"), file]) {
      await assert.rejects(directoryOption(parse("--dir", bad)), (error: unknown) => {
        assert.ok(error instanceof BenchOptionError);
        assert.equal(error.message, `--dir ${bad}: no such directory`);
        return true;
      });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
