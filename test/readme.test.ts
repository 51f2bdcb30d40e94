/**
 * The README's library example, run against the package's public entry point (src/index.ts): the names it uses
 * exist and two endpoints built that way bring a tunnel up when their outputs are pumped into each other.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSwanctlConfig } from '../src/config/index.js';
import { IkeEndpoint, connection, child, pskCredentials, createProvider, systemRandom, type IkeEvent, type Transmit } from '../src/index.js';

describe('README library example', () => {
  it('two endpoints built from the public API establish IKE and CHILD SAs', () => {
    const crypto = createProvider();
    const mk = (local: string, remote: string, addr: string | undefined, lts: string, rts: string) =>
      new IkeEndpoint({
        connections: [connection({ name: 'gw', remoteAddrs: addr ? [addr] : ['%any'], local: { id: local }, remote: { id: remote }, children: [child('net', { localTs: [lts], remoteTs: [rts] })] })],
        credentials: pskCredentials([{ ids: ['hq', 'branch'], secret: 'readme' }]),
        crypto,
        random: systemRandom,
      });
    const hq = mk('hq', 'branch', '203.0.113.2', '10.1.0.0/16', '10.2.0.0/16');
    const branch = mk('branch', 'hq', undefined, '10.2.0.0/16', '10.1.0.0/16');
    const addr = new Map<IkeEndpoint, string>([[hq, '203.0.113.1'], [branch, '203.0.113.2']]);
    const events = new Map<IkeEndpoint, IkeEvent[]>([[hq, []], [branch, []]]);
    let now = 0;
    hq.initiate('gw', now);
    // The driver loop of the README: drain transmits into the peer, drain events, advance to the next deadline.
    for (let step = 0; step < 50; step++) {
      for (const [from, to] of [[hq, branch], [branch, hq]] as const)
        for (let t: Transmit | undefined = from.pollTransmit(); t; t = from.pollTransmit()) to.receive(t.data, { address: addr.get(to)!, port: t.remote.port }, { address: addr.get(from)!, port: t.local.port }, now);
      for (const ep of [hq, branch]) for (let e = ep.pollEvent(); e; e = ep.pollEvent()) events.get(ep)!.push(e);
      if ([hq, branch].every((ep) => events.get(ep)!.some((e) => e.type === 'child-install'))) break;
      now += 10;
    }
    for (const ep of [hq, branch]) {
      expect(events.get(ep)!.some((e) => e.type === 'ike-up')).toBe(true);
      expect(events.get(ep)!.some((e) => e.type === 'child-install')).toBe(true);
    }
  });
});

/** Every fenced block of the README that is a swanctl.conf (it opens a connections, secrets or pools section). */
function swanctlBlocks(readme: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  const re = /^```([^\n]*)\n([\s\S]*?)^```$/gm;
  for (let m = re.exec(readme); m !== null; m = re.exec(readme)) {
    const [, lang, body] = m;
    if (!['', 'conf', 'swanctl.conf'].includes(lang!.trim())) continue;
    if (!/^\s*(connections|secrets|pools)\s*\{/m.test(body!)) continue;
    out.push({ line: readme.slice(0, m.index).split('\n').length + 1, text: body! });
  }
  return out;
}

describe('README configuration examples', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

  it('every swanctl.conf block loads as written, without errors or unknown keys', () => {
    const blocks = swanctlBlocks(readme);
    expect(blocks.length).toBeGreaterThanOrEqual(1);
    for (const b of blocks) {
      const { config, warnings } = parseSwanctlConfig(b.text, `README.md block at line ${b.line}`);
      expect(config.connections.size + config.secrets.ike.length, `block at line ${b.line}`).toBeGreaterThan(0);
      expect(warnings.filter((w) => w.code === 'UNKNOWN_KEY'), `block at line ${b.line}`).toEqual([]);
    }
  });

  it('the site-to-site example means what it says: IDs, PSK, one child with its selectors', () => {
    const site = swanctlBlocks(readme).find((b) => b.text.includes('hq-branch'))!;
    const { config } = parseSwanctlConfig(site.text, 'README.md');
    const c = config.connections.get('hq-branch')!;
    expect(c.local[0]!.id).toBe('hq.example.com');
    expect(c.remote[0]!.id).toBe('branch.example.com');
    expect(c.local[0]!.auth.class).toBe('psk');
    expect(config.secrets.ike[0]!.ids).toEqual(['hq.example.com', 'branch.example.com']);
    expect(c.children.get('net')!.local_ts.map((t) => t.text)).toEqual(['10.1.0.0/16']);
  });

  it('swanctl commands name the command before --uri (swanctl reads the command from its first argument)', () => {
    const bad = readme.split('\n').filter((l) => /swanctl\s+--uri\b/.test(l));
    expect(bad).toEqual([]);
    expect(readme).toMatch(/swanctl --list-sas --uri unix:\/\//);
  });
});
