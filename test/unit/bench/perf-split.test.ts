import assert from "node:assert/strict";
import { test } from "node:test";
import { classify, split } from "../../../bench/perf-split.js";

// Two samples of thread 10 and one of thread 11, as `perf script -F tid,ip,sym,dso` prints them.
const text = [
  " 10 ",
  "\t ffff1 tcp_sendmsg_locked+0x12 ([kernel.kallsyms])",
  "\t ffff2 sock_write_iter+0x3 ([kernel.kallsyms])",
  "\t 7f001 __GI___libc_write (/usr/lib/libc.so.6)",
  "",
  " 10 ",
  "\t 7f002 Builtins_LoadIC (/usr/bin/node)",
  "\t 7f003 [unknown] (/tmp/perf-10.map)",
  "",
  " 11 ",
  "\t ffff3 ext4_buffered_write_iter ([kernel.kallsyms])",
  "",
].join("\n");

test("perf-split: a sample's kind comes from its leaf and its kernel frames", () => {
  assert.equal(classify([["Builtins_LoadIC", "/usr/bin/node"]]), "user");
  assert.equal(classify([["x", "[kernel.kallsyms]"], ["tcp_sendmsg", "[kernel.kallsyms]"]]),
    "socket write");
  assert.equal(classify([["x", "[kernel.kallsyms]"], ["sock_recvmsg", "[kernel.kallsyms]"]]),
    "socket read");
  assert.equal(classify([["do_epoll_wait", "[kernel.kallsyms]"]]), "epoll");
  assert.equal(classify([["x", "[kernel.kallsyms]"]]), "other kernel");
  assert.equal(classify([]), "user");
});

test("perf-split: shares per named thread; unnamed threads are left out", () => {
  const lines = split(text, "10=leader,11=follower").map((line) => JSON.parse(line) as unknown);
  assert.deepEqual(lines, [
    { thread: "leader", tid: 10, samples: 2, shares: { "socket write": 0.5, user: 0.5 } },
    { thread: "follower", tid: 11, samples: 1, shares: { "file write": 1 } },
  ]);
  assert.deepEqual(split(text, "12=none").map((line) => JSON.parse(line) as unknown),
    [{ thread: "none", tid: 12, samples: 0, shares: {} }]);
  assert.throws(() => split(text, "leader"), /bad thread "leader"/);
});
