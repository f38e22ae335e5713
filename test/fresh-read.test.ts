import { describe, expect, it } from 'vitest';
import { FreshRead } from '../src/shared/fresh-read.js';

/** A read whose answer is the value of `source` when it starts, and that ends when released. */
function controlledSource() {
  let value = 0;
  let started = 0;
  const pending: (() => void)[] = [];
  return {
    set: (v: number) => (value = v),
    started: () => started,
    release: () => pending.shift()?.(),
    load: () => {
      started++;
      const seen = value;
      return new Promise<number>((resolve) => pending.push(() => resolve(seen)));
    },
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('FreshRead', () => {
  it('answers a caller that arrives during a read with a later read, shared by all who arrived meanwhile', async () => {
    const reads = new FreshRead<number>();
    const source = controlledSource();
    const first = reads.read(source.load);
    source.set(1); // committed after the first read started, before the next callers arrive
    const second = reads.read(source.load);
    const third = reads.read(source.load);
    expect(source.started()).toBe(1);
    source.release();
    expect(await first).toBe(0);
    await tick();
    expect(source.started()).toBe(2);
    source.release();
    expect(await second).toBe(1);
    expect(await third).toBe(1);
    expect(source.started()).toBe(2);
  });

  it('starts afresh once nothing is in flight, and survives a failed read', async () => {
    const reads = new FreshRead<number>();
    await expect(reads.read(() => Promise.reject(new Error('down')))).rejects.toThrow('down');
    const source = controlledSource();
    source.set(7);
    const answer = reads.read(source.load);
    source.release();
    expect(await answer).toBe(7);
    source.set(8);
    const later = reads.read(source.load);
    source.release();
    expect(await later).toBe(8);
  });

  it('a queued caller behind a failing read still gets its own read', async () => {
    const reads = new FreshRead<number>();
    let fail = true;
    const failing = reads.read(() => new Promise((_, reject) => setImmediate(() => reject(new Error('down')))));
    const queued = reads.read(async () => (fail ? 1 : 2));
    fail = false;
    await expect(failing).rejects.toThrow('down');
    expect(await queued).toBe(2);
  });

  it('a caller arriving as the running read settles joins the queued read instead of starting another', async () => {
    const reads = new FreshRead<number>();
    let inFlight = 0;
    let most = 0;
    const load = async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      return 1;
    };
    let release!: (value: number) => void;
    const firstLoad = new Promise<number>((resolve) => (release = resolve));
    const first = reads.read(() => firstLoad);
    const queued = reads.read(load);
    // Runs right after the first read's own bookkeeping, before the queued read has started.
    const late = firstLoad.then(() => reads.read(load));
    release(0);
    expect(await Promise.all([first, queued, late])).toEqual([0, 1, 1]);
    expect(most).toBe(1);
  });
});
