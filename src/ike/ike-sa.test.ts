import { describe, expect, it } from 'vitest';
import { IkeSa } from './ike-sa.js';

const rare = (sa: IkeSa): object | undefined => (sa as unknown as { _rare?: object })._rare;
const newSa = (): IkeSa => new IkeSa(1, false, new Uint8Array(8), { address: '192.0.2.1', port: 500 }, { address: '192.0.2.2', port: 500 });

describe('IkeSa rare fields (issue 17)', () => {
  it('read as their defaults while absent, and writing a default makes no side object', () => {
    const sa = newSa();
    expect([sa.keyingTry, sa.cookieRetries, sa.dpdPending, sa.Ni.length, sa.initRequest.length, sa.rekeyedTo, sa.halfOpenDeadline]).toEqual([1, 0, false, 0, 0, undefined, undefined]);
    sa.keyingTry = 1;
    sa.dpdPending = false;
    sa.Ni = new Uint8Array(0);
    sa.reauthBy = undefined;
    expect(rare(sa)).toBeUndefined();
  });

  it('keep what is written, and dropEmpty drops the side object only once every field is back to its default', () => {
    const sa = newSa();
    sa.halfOpenDeadline = 0; // 0 is a deadline, not the default (undefined)
    sa.cookieRetries++;
    sa.Nr = Uint8Array.of(1, 2, 3);
    expect([sa.halfOpenDeadline, sa.cookieRetries, [...sa.Nr]]).toEqual([0, 1, [1, 2, 3]]);
    sa.dropEmpty();
    expect(rare(sa)).toBeDefined();
    sa.cookieRetries = 0;
    sa.Nr = new Uint8Array(0);
    sa.dropEmpty();
    expect(rare(sa)).toBeDefined();
    sa.halfOpenDeadline = undefined;
    sa.dropEmpty();
    expect(rare(sa)).toBeUndefined();
    expect([sa.halfOpenDeadline, sa.cookieRetries, sa.Nr.length]).toEqual([undefined, 0, 0]);
  });
});
