/** The task manager (RFC 7296 2.3, window size 1): order, one request at a time, 'more' rounds, moot tasks. */
import { describe, expect, it } from 'vitest';
import { ExchangeType, type Payload } from '../codec/types.js';
import { IkeSa } from '../ike-sa.js';
import { queueTask, responseArrived, runQueue, tasksOf, WINDOW_SIZE, type TaskHost } from './manager.js';
import type { Task, TaskStatus } from './task.js';

const addr = { address: '192.0.2.1', port: 500 };

function fakeTask(name: string, log: string[], o: { moot?: boolean; rounds?: number } = {}): Task {
  let rounds = o.rounds ?? 1;
  return {
    kind: 'IKE_DPD',
    exchange: ExchangeType.INFORMATIONAL,
    build: (): Payload[] | undefined => {
      log.push(`build ${name}`);
      return o.moot ? undefined : [];
    },
    process: (): TaskStatus => {
      log.push(`process ${name}`);
      return --rounds > 0 ? 'more' : 'done';
    },
    timeout: () => void log.push(`timeout ${name}`),
  };
}

function host(sa: IkeSa, log: string[]): TaskHost {
  return {
    send: (s, task) => {
      log.push(`send ${task.kind}`);
      s.pending = { messageId: s.nextRequestId++, exchangeType: task.exchange, datagrams: [], attempt: 0, deadline: 0, task };
      void sa;
    },
  };
}

describe('task manager', () => {
  it('runs one task at a time (window size 1), in queue order, `first` jumping the queue', () => {
    expect(WINDOW_SIZE).toBe(1);
    const sa = new IkeSa(1, true, new Uint8Array(8), addr, addr);
    const log: string[] = [];
    const h = host(sa, log);
    queueTask(sa, fakeTask('a', log));
    queueTask(sa, fakeTask('b', log));
    queueTask(sa, fakeTask('c', log), { first: true });
    runQueue(h, sa, 0);
    expect(log).toEqual(['build c', 'send IKE_DPD']);
    expect(tasksOf(sa)).toHaveLength(3);
    responseArrived(h, sa, {} as never, [], 0);
    runQueue(h, sa, 0);
    responseArrived(h, sa, {} as never, [], 0);
    runQueue(h, sa, 0);
    expect(log.filter((l) => l.startsWith('build'))).toEqual(['build c', 'build a', 'build b']);
  });

  it("a task answering 'more' is built again at once; a moot task is skipped", () => {
    const sa = new IkeSa(1, true, new Uint8Array(8), addr, addr);
    const log: string[] = [];
    const h = host(sa, log);
    queueTask(sa, fakeTask('moot', log, { moot: true }));
    queueTask(sa, fakeTask('eap', log, { rounds: 3 }));
    runQueue(h, sa, 0);
    responseArrived(h, sa, {} as never, [], 0);
    responseArrived(h, sa, {} as never, [], 0);
    responseArrived(h, sa, {} as never, [], 0);
    expect(log).toEqual(['build moot', 'build eap', 'send IKE_DPD', 'process eap', 'build eap', 'send IKE_DPD', 'process eap', 'build eap', 'send IKE_DPD', 'process eap']);
    expect(sa.pending).toBeUndefined();
  });

  it('nothing starts on an SA being destroyed', () => {
    const sa = new IkeSa(1, true, new Uint8Array(8), addr, addr);
    (sa as { state: string }).state = 'DESTROYING';
    const log: string[] = [];
    queueTask(sa, fakeTask('x', log));
    runQueue(host(sa, log), sa, 0);
    expect(log).toEqual([]);
  });
});
