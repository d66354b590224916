// Runs asynchronous operations one at a time, in call order. A store wraps each public method
// in run(), so a caller that forgets to await cannot interleave an append with a truncation.

export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.tail.then(operation);
    // The next operation waits for this one to settle, whatever its outcome; the caller still
    // sees the rejection through `result`.
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once everything queued so far has settled. */
  drain(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}
