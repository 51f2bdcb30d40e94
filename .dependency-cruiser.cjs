// Layer and cycle rules for src/ (issue 12: "no import cycles, no upward imports").
// The layers come from /work/shared/DESIGN.md section 1 and 7 and docs/DESIGN.md:
//   drivers   src/cli, src/daemon, src/tun, src/sys (I/O: sockets, TUN, libc, timers), src/vici, src/inspect
//   config    src/config (swanctl.conf / ipsec.conf to connection objects), above the protocol cores
//   gateway   src/gateway (sans-IO: IKE endpoint + ESP engine + installer + traps)
//   protocol  src/ike, src/esp (siblings: neither imports the other)
//   pki       src/pki (X.509), src/identity (IDs shared by src/pki and src/ike)
//   base      src/crypto, src/net, src/util
// src/sim is the virtual-time simulator; cores never import it (tests may).
// A rule names the lower layer as `from` and what it must not reach as `to`. Test files (*.test.ts, test-support)
// are exempt from the layer rules, not from the cycle rule.
// Parsed with swc: dependency-cruiser's own TypeScript support needs the TypeScript 5 compiler API, which
// TypeScript 7 (the project's compiler) no longer has. tsPreCompilationDeps keeps `import type` edges.
const TESTS = '(\\.test\\.ts$|/test-support\\.ts$|/testing\\.ts$)';
const DRIVERS = '^src/(cli|daemon|tun|sys|vici|inspect)/';
const CORES = '^src/(crypto|esp|ike|pki|identity|gateway|net|sim|util|radius|ha)/';

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle: the modules cannot be understood, tested or loaded one at a time (issue 12).',
      from: {},
      to: { circular: true },
    },
    {
      name: 'core-not-to-drivers',
      severity: 'error',
      comment: 'The sans-IO cores are driven by src/daemon, src/cli and src/tun; they never reach up into them.',
      from: { path: CORES, pathNot: TESTS },
      to: { path: DRIVERS },
    },
    {
      name: 'core-not-to-entry',
      severity: 'error',
      comment: 'src/index.ts is the public surface built from the layers; nothing inside imports it.',
      from: { path: '^src/.+/' },
      to: { path: '^src/index\\.ts$' },
    },
    {
      name: 'protocol-not-to-config',
      severity: 'error',
      comment: 'src/config builds connections for src/ike and src/pki; the cores below it take them as values.',
      from: { path: '^src/(crypto|esp|ike|pki|identity|net|sim|util)/', pathNot: TESTS },
      to: { path: '^src/config/' },
    },
    {
      name: 'only-gateway-and-drivers-to-sim',
      severity: 'error',
      comment: 'src/sim is the virtual network for tests; no protocol core depends on it.',
      from: { path: '^src/(crypto|esp|ike|pki|identity|gateway|net|util)/', pathNot: TESTS },
      to: { path: '^src/sim/' },
    },
    {
      name: 'below-gateway',
      severity: 'error',
      comment: 'src/gateway sits on src/ike and src/esp; they do not know it.',
      from: { path: '^src/(crypto|esp|ike|pki|identity|net|sim|util)/', pathNot: TESTS },
      to: { path: '^src/gateway/' },
    },
    {
      name: 'esp-not-to-ike',
      severity: 'error',
      comment: 'ESP (RFC 4303) is keyed by IKE through the gateway; the data plane never imports the control plane.',
      from: { path: '^src/esp/', pathNot: TESTS },
      to: { path: '^src/(ike|pki|identity)/' },
    },
    {
      name: 'ike-not-to-esp',
      severity: 'error',
      comment:
        'IKE hands keys to the gateway, which installs them in ESP. Exception: src/ike/codec/open-one.ts is the ' +
        'one-datagram inspector for `cygnet inspect` and decodes ESP (RFC 4303) beside IKE on UDP 4500 (RFC 3948).',
      from: { path: '^src/ike/', pathNot: `${TESTS}|^src/ike/codec/open-one\\.ts$` },
      to: { path: '^src/esp/' },
    },
    {
      name: 'pki-not-to-protocol',
      severity: 'error',
      comment: 'X.509 and IDs (src/pki, src/identity) are used by src/ike, never the other way round.',
      from: { path: '^src/(pki|identity)/', pathNot: TESTS },
      to: { path: '^src/(ike|esp)/' },
    },
    {
      name: 'identity-not-to-pki',
      severity: 'error',
      comment: 'src/identity is the ID matching both src/pki and src/ike use; it sits below both.',
      from: { path: '^src/identity/', pathNot: TESTS },
      to: { path: '^src/pki/' },
    },
    {
      name: 'base-stays-base',
      severity: 'error',
      comment: 'src/crypto, src/net and src/util know no protocol: they import only each other.',
      from: { path: '^src/(crypto|net|util)/', pathNot: TESTS },
      to: { path: '^src/', pathNot: '^src/(crypto|net|util)/' },
    },
  ],
  options: {
    parser: 'swc',
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/|^dist/' },
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
