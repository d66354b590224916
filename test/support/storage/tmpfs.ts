// A size-limited tmpfs for disk-full tests: a real file system that answers ENOSPC once its
// size is used up, and can be given more room (remount) without losing what it holds. Mounting
// needs root; `tmpfsUnavailable` says why a test must be skipped when it cannot.

import { execFile } from "node:child_process";
import { rmdir } from "node:fs/promises";
import { promisify } from "node:util";
import { makeTempDir } from "./backends.js";

const run = promisify(execFile);

export class Tmpfs {
  private mounted = true;

  private constructor(
    readonly dir: string,
    private readonly ownsDir: boolean,
  ) {}

  /** Mounts a tmpfs of `bytes` on `dir` (an empty directory), or on a new temporary one. */
  static async mount(bytes: number, dir?: string): Promise<Tmpfs> {
    const at = dir ?? await makeTempDir("tmpfs");
    try {
      await run("mount", ["-t", "tmpfs", "-o", `size=${bytes}`, "tmpfs", at]);
    } catch (error) {
      if (dir === undefined) await rmdir(at);
      throw error;
    }
    return new Tmpfs(at, dir === undefined);
  }

  /** Changes the size limit; the files stay. */
  async resize(bytes: number): Promise<void> {
    await run("mount", ["-o", `remount,size=${bytes}`, this.dir]);
  }

  /** Unmounts (lazily if a file is still open) and removes a mount point it made. */
  async dispose(): Promise<void> {
    if (!this.mounted) return;
    this.mounted = false;
    await run("umount", [this.dir]).catch(() => run("umount", ["-l", this.dir]));
    if (this.ownsDir) await rmdir(this.dir);
  }
}

let probed: Promise<string | null> | null = null;

/** Null when a tmpfs can be mounted here, else why not (a skip reason). */
export function tmpfsUnavailable(): Promise<string | null> {
  probed ??= (async () => {
    if (process.platform !== "linux") return "tmpfs mounts need Linux";
    if (process.getuid?.() !== 0) return "mounting a size-limited tmpfs needs root";
    try {
      await (await Tmpfs.mount(1024 * 1024)).dispose();
      return null;
    } catch (error) {
      return `cannot mount a tmpfs: ${error instanceof Error ? error.message : String(error)}`;
    }
  })();
  return probed;
}
