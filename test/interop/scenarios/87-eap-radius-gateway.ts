/**
 * EAP-MSCHAPv2 relayed to FreeRADIUS, with RADIUS accounting (issue 14, RFC 3579 and RFC 2866): strongSwan 5.9.8
 * (right) is the road-warrior client with `auth = eap-mschapv2`; cygnet (left, real TUN) the gateway with
 * `remote { auth = eap-radius }` and strongswan.conf (cygnet's --settings) `charon.plugins.eap-radius` naming a
 * FreeRADIUS 3 server (in the gateway's namespace, on its loopback) with `accounting = yes` and an Interim-Update
 * every 2 s. FreeRADIUS runs MSCHAPv2 with the client through cygnet's relay and returns the MSK as MS-MPPE keys;
 * both sides' last AUTH payloads come from that MSK.
 *
 * - carol: tunnel up, ping both ways, then the client deletes the IKE SA. FreeRADIUS' detail file has Start,
 *   Interim-Update and Stop for one Acct-Session-Id with User-Name carol, and the Stop's Acct-Input-Octets /
 *   Acct-Output-Octets are non-zero and at least the pings' ESP payload, with Acct-Terminate-Cause User-Request.
 * - dave with a wrong password: FreeRADIUS sends Access-Reject, the client gets AUTHENTICATION_FAILED, both logs
 *   name the method and the identity, nothing is left on the gateway and no accounting record names dave.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { waitFor } from '../lib/exec.js';
import { startFreeradius, type FreeradiusServer } from '../lib/freeradius.js';
import type { ScenarioContext } from '../lib/scenario.js';
import { DEFAULT_PLUGINS, type StrongswanPeer } from '../lib/strongswan.js';
import { twoHosts, type TwoHosts } from '../lib/topology.js';
import { establishedCygnet, startCygnet, type CygnetSide } from './20-cygnet-psk-responder.js';

export const name = 'eap-radius-gateway';
export const timeoutMs = 90_000;

const PROPOSALS = 'aes128gcm16-prfsha256-x25519';
const IKE_PSK = 'gateway-authenticates-itself-with-this-psk';
const RADIUS_SECRET = 'cygnet-radius-secret';
const PINGS = 5;

export interface EapRadiusSetup {
  readonly h: TwoHosts;
  readonly fr: FreeradiusServer;
  readonly cyg: CygnetSide;
  readonly swan: StrongswanPeer;
}

/**
 * The lab of scenarios 87-89: FreeRADIUS (users carol and dave) in the gateway's namespace, cygnet gateway with
 * eap-radius and accounting (`accounting_interval` seconds, 0 for none; `gatewayConnExtra`: more keys for the
 * gateway's connection), strongSwan with connections carol (right password) and dave (wrong one).
 */
export interface EapRadiusOptions {
  readonly accountingIntervalS?: number;
  /** More lines for the gateway's / the client's connection section (indented, each ending in a newline). */
  readonly gatewayConnExtra?: string;
  readonly clientConnExtra?: string;
  /** More lines for strongswan.conf's charon section / its eap-radius section (cygnet's --settings). */
  readonly charonExtra?: string;
  readonly radiusExtra?: string;
  /** Reply items for carol in FreeRADIUS' users file. */
  readonly carolReply?: readonly string[];
}

export async function eapRadiusSetup(ctx: ScenarioContext, opts: EapRadiusOptions = {}): Promise<EapRadiusSetup> {
  const h = await twoHosts(ctx.lab);
  const { left, right } = h;
  const fr = await startFreeradius(ctx, {
    ns: left.ns,
    clients: [{ address: '127.0.0.1', secret: RADIUS_SECRET }],
    users: [
      { name: 'carol', password: "carol's password", ...(opts.carolReply ? { reply: opts.carolReply } : {}) },
      { name: 'dave', password: "dave's real password" },
    ],
  });

  const gateway = `connections {
  rw {
    local_addrs = ${left.outer4}
    remote_addrs = %any
    proposals = ${PROPOSALS}
${opts.gatewayConnExtra ?? ''}    local {
      auth = psk
      id = gw@cygnet.test
    }
    remote {
      auth = eap-radius
    }
    children {
      net {
        local_ts = ${left.inner4}/32
        remote_ts = ${right.inner4}/32
        esp_proposals = aes128gcm16
      }
    }
  }
}
secrets {
  ike-gw {
    id-1 = gw@cygnet.test
    id-2 = carol
    id-3 = dave
    secret = "${IKE_PSK}"
  }
}
`;
  const settings = join(await ctx.subdir('settings'), 'strongswan.conf');
  await writeFile(
    settings,
    `charon {
${opts.charonExtra ?? ''}  plugins {
    eap-radius {
      servers {
        fr {
          address = 127.0.0.1
          auth_port = ${fr.authPort}
          acct_port = ${fr.acctPort}
          secret = "${RADIUS_SECRET}"
        }
      }
      accounting = yes
${opts.radiusExtra ?? ''}${opts.accountingIntervalS ? `      accounting_interval = ${opts.accountingIntervalS}\n` : ''}    }
  }
}
`,
  );
  const client = (conn: string): string => `  ${conn} {
    local_addrs = ${right.outer4}
    remote_addrs = ${left.outer4}
    proposals = ${PROPOSALS}
${opts.clientConnExtra ?? ''}    local {
      auth = eap-mschapv2
      id = ${conn}
    }
    remote {
      auth = psk
      id = gw@cygnet.test
    }
    children {
      ${conn}-net {
        local_ts = ${right.inner4}/32
        remote_ts = ${left.inner4}/32
        esp_proposals = aes128gcm16
        start_action = none
      }
    }
  }
`;
  const swanConf = `connections {
${client('carol')}${client('dave')}}
secrets {
  ike-gw {
    id-1 = gw@cygnet.test
    id-2 = carol
    id-3 = dave
    secret = "${IKE_PSK}"
  }
  eap-carol {
    id = carol
    secret = "carol's password"
  }
  eap-dave {
    id = dave
    secret = "not dave's password"
  }
}
`;
  const cyg = await startCygnet(ctx, h, gateway, ['--tun', 'cyg0', '--settings', settings, '--debug', 'ike 2, net 2, esp 2, dmn 2, cfg 2']);
  await cyg.peer.waitForLog(/loaded 1 RADIUS server configuration/, 5000);
  const swan = await ctx.startStrongswan({ ns: right.ns, swanctlConf: swanConf, plugins: [...DEFAULT_PLUGINS, 'md4', 'md5', 'eap-mschapv2', 'eap-identity'] });
  await swan.loadAll();
  return { h, fr, cyg, swan };
}

export async function run(ctx: ScenarioContext): Promise<void> {
  const { h, fr, cyg, swan } = await eapRadiusSetup(ctx, { accountingIntervalS: 2 });
  const { left, right } = h;

  // carol: MSCHAPv2 with FreeRADIUS through the relay
  const up = await swan.initiate('carol-net', { ike: 'carol', timeoutS: 20 });
  assert.equal(up.code, 0, `strongSwan brings up carol over EAP-MSCHAPv2 relayed to FreeRADIUS:\n${up.stdout}${up.stderr}`);
  await cyg.waitFor('SA established', establishedCygnet);
  await cyg.peer.waitForLog(/RADIUS authentication of 'carol' successful/, 5000);
  await cyg.peer.waitForLog(/EAP method EAP-mschapv2 succeeded for 'carol', MSK established/, 5000);
  await cyg.peer.waitForLog(/authentication of 'carol' with EAP MSK successful/, 5000);
  await swan.waitForLog(/authentication of 'gw@cygnet\.test' with EAP successful/, 5000);
  await cyg.peer.waitForLog(/installed route 10\.2\.0\.1\/32 dev cyg0/, 5000);
  const out = await left.ns.ping(right.inner4, { count: PINGS, source: left.inner4 });
  assert.equal(out.received, PINGS, `ping gateway -> client through the tunnel:\n${out.output}`);
  const back = await right.ns.ping(left.inner4, { count: PINGS, source: right.inner4 });
  assert.equal(back.received, PINGS, `ping client -> gateway through the tunnel:\n${back.output}`);

  type Rec = Record<string, string>;
  const carolRecs = async (): Promise<Rec[]> => (await fr.detailRecords()).filter((r) => r['User-Name'] === 'carol');
  const ofType = (recs: Rec[], t: string): Rec[] => recs.filter((r) => r['Acct-Status-Type'] === t);
  // An Interim-Update with the pings counted (every 2 s).
  const interim = await waitFor('FreeRADIUS: Interim-Update for carol with traffic', async () => ofType(await carolRecs(), 'Interim-Update').find((r) => Number(r['Acct-Input-Octets'] ?? 0) > 0), 10_000, 200);

  // strongSwan's own count of the same traffic, to compare the Stop with (its in = our Output, its out = our Input)
  const swanChild = (await swan.listSas()).find((s) => s.name === 'carol')?.children[0];
  assert.ok(swanChild, 'strongSwan lists carol\'s CHILD SA');

  // down: the client deletes the IKE SA; the gateway sends the Stop with the final counters
  const down = await swan.terminate('carol', { timeoutS: 10 });
  assert.equal(down.code, 0, `strongSwan deletes carol's IKE SA:\n${down.stdout}${down.stderr}`);
  await cyg.waitFor('no IKE SA left on the gateway', (s) => s.ikeSas.length === 0, 10_000);
  const stop = await waitFor('FreeRADIUS: Stop for carol', async () => ofType(await carolRecs(), 'Stop')[0], 10_000, 200);
  const recs = await carolRecs();
  const start = ofType(recs, 'Start')[0];
  assert.ok(start, `FreeRADIUS recorded a Start for carol:\n${JSON.stringify(recs, null, 2)}`);
  const session = start['Acct-Session-Id'];
  assert.ok(session && /^\d+-\d+$/.test(session), `Acct-Session-Id is "<prefix>-<IKE SA id>": ${session}`);
  assert.equal(stop['Acct-Session-Id'], session, 'Stop continues the Start session');
  assert.equal(interim['Acct-Session-Id'], session, 'Interim-Update continues the Start session');
  assert.equal(ofType(recs, 'Start').length, 1, 'one Start');
  assert.equal(ofType(recs, 'Stop').length, 1, 'one Stop');
  const inOctets = Number(stop['Acct-Input-Octets']);
  const outOctets = Number(stop['Acct-Output-Octets']);
  // each ping: two 84-byte IPv4 ICMP packets (request + reply) per direction in total over both ping runs
  const min = 2 * PINGS * 84;
  assert.ok(inOctets >= min, `Acct-Input-Octets counts the pings: ${inOctets} >= ${min}`);
  assert.ok(outOctets >= min, `Acct-Output-Octets counts the pings: ${outOctets} >= ${min}`);
  assert.ok(Number(stop['Acct-Input-Packets']) >= 2 * PINGS && Number(stop['Acct-Output-Packets']) >= 2 * PINGS, `packet counters: ${JSON.stringify(stop)}`);
  assert.ok(inOctets >= Number(interim['Acct-Input-Octets']), 'the Stop counts at least what the Interim-Update did');
  assert.equal(inOctets, swanChild.bytesOut, `Acct-Input-Octets ${inOctets} = strongSwan's bytes out ${swanChild.bytesOut}`);
  assert.equal(outOctets, swanChild.bytesIn, `Acct-Output-Octets ${outOctets} = strongSwan's bytes in ${swanChild.bytesIn}`);
  assert.equal(stop['Acct-Terminate-Cause'], 'User-Request', `Acct-Terminate-Cause: ${stop['Acct-Terminate-Cause']}`);
  assert.ok(stop['Calling-Station-Id']?.startsWith(right.outer4), `Calling-Station-Id names the client: ${stop['Calling-Station-Id']}`);
  ctx.log(`accounting for carol: session ${session}, Stop in ${inOctets} B / ${stop['Acct-Input-Packets']} pkts, out ${outOctets} B / ${stop['Acct-Output-Packets']} pkts, interim in ${interim['Acct-Input-Octets']} B; strongSwan in ${swanChild.bytesIn} B, out ${swanChild.bytesOut} B`);

  // dave, wrong password: Access-Reject, AUTHENTICATION_FAILED at the client, nothing left at the gateway
  const bad = await swan.initiate('dave-net', { ike: 'dave', timeoutS: 20, allowFail: true });
  assert.notEqual(bad.code, 0, 'dave with a wrong password does not come up');
  await swan.waitForLog(/received AUTHENTICATION_FAILED/, 5000);
  await swan.waitForLog(/EAP_MSCHAPV2|EAP-MSCHAPV2|MSCHAPV2/i, 5000);
  await cyg.peer.waitForLog(/RADIUS authentication of 'dave' failed: Access-Reject/, 5000);
  await cyg.peer.waitForLog(/authentication of 'dave' failed|EAP-\S+ authentication of 'dave' failed/, 5000);
  const sas = await swan.listSas();
  assert.deepEqual(sas.map((s) => s.name), [], `strongSwan holds no IKE SA: ${JSON.stringify(sas.map((s) => s.name))}`);
  await cyg.waitFor('nothing half-open on the gateway', (s) => s.ikeSas.length === 0, 10_000);
  await new Promise((r) => setTimeout(r, 500));
  const daveRecs = (await fr.detailRecords()).filter((r) => r['User-Name'] === 'dave');
  assert.deepEqual(daveRecs, [], 'no accounting for a user who never got in');
}
