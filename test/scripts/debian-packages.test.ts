// scripts/debian-packages.ts: which packages an `apt-get -s install` would
// install, and the order a tool is looked for in (variable, PATH, .tools/).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { findOnPath, parseSimulatedInstall, resolveFromDebianPackages, type DebianTool } from '../../scripts/debian-packages';
import { executableStubs } from '../support/executable-stubs';

const { binDir, remove } = executableStubs();
after(remove);

/** A tool no system has, so nothing but the test's PATH and variable can provide it. */
const TOOL: DebianTool = {
  name: 'switchyard-test-tool-that-does-not-exist',
  envVariable: 'SWITCHYARD_TEST_TOOL',
  pathNames: ['first-name', 'second-name'],
  packages: ['switchyard-test-tool-that-does-not-exist'],
  command: 'usr/bin/first-name',
  hint: 'install the test tool or set SWITCHYARD_TEST_TOOL',
  check: () => Promise.resolve(),
};

const SIMULATION = `NOTE: This is only a simulation!
      apt-get needs root privileges for real execution.
Reading package lists...
The following NEW packages will be installed:
  chromium chromium-common libogg0
0 upgraded, 3 newly installed, 0 to remove and 0 not upgraded.
Inst libogg0 (1.3.5-3 Debian:12.15/oldstable [amd64])
Inst chromium-common (156.0.8078.114-1~deb12u1 Debian-Security:12/oldstable-security [amd64])
Inst chromium (156.0.8078.114-1~deb12u1 Debian-Security:12/oldstable-security [amd64])
Conf libogg0 (1.3.5-3 Debian:12.15/oldstable [amd64])
Conf chromium-common (156.0.8078.114-1~deb12u1 Debian-Security:12/oldstable-security [amd64])
Conf chromium (156.0.8078.114-1~deb12u1 Debian-Security:12/oldstable-security [amd64])
`;

const cases: Array<{ name: string; output: string; packages: string[] }> = [
  { name: 'reads the Inst lines in order, not the Conf lines or the notes', output: SIMULATION, packages: ['libogg0', 'chromium-common', 'chromium'] },
  { name: 'reads an upgrade (installed version in brackets) as its package', output: 'Inst libnss3 [2:3.87.1-1] (2:3.87.1-1+deb12u2 Debian-Security:12 [amd64])\n', packages: ['libnss3'] },
  { name: 'keeps an architecture qualifier, which apt-get download accepts', output: 'Inst libc6:i386 (2.36-9 Debian:12 [i386])\n', packages: ['libc6:i386'] },
  { name: 'lists a package once', output: 'Inst a (1 x [all])\nInst a (1 x [all])\n', packages: ['a'] },
  { name: 'finds nothing when everything is installed', output: 'Reading package lists...\nchromium is already the newest version.\n0 upgraded, 0 newly installed\n', packages: [] },
  { name: 'reads Inst only at the start of a line', output: '  Inst x (1 y)\nRemv z [1]\n', packages: [] },
];
for (const { name, output, packages } of cases) {
  test(`parseSimulatedInstall ${name}`, () => assert.deepEqual(parseSimulatedInstall(output), packages));
}

test('findOnPath returns the first executable of that name on PATH, skipping files that are not executable', () => {
  const plain = binDir('plain', ['tool'], 0o644);
  const runnable = binDir('runnable', ['tool']);
  assert.equal(findOnPath('tool', { PATH: `${plain}:${runnable}` }), join(runnable, 'tool'));
  assert.equal(findOnPath('other', { PATH: `${plain}:${runnable}` }), undefined);
  assert.equal(findOnPath('tool', {}), undefined);
});

test('the variable wins over PATH', async () => {
  const path = binDir('both-names', ['first-name', 'second-name']);
  assert.deepEqual(await resolveFromDebianPackages(TOOL, { SWITCHYARD_TEST_TOOL: '/opt/tool', PATH: path }), { command: '/opt/tool', env: {} });
});

test('on PATH, the names are tried in order', async () => {
  const both = binDir('both', ['first-name', 'second-name']);
  const second = binDir('second-only', ['second-name']);
  assert.deepEqual(await resolveFromDebianPackages(TOOL, { PATH: `${second}:${both}` }), { command: join(both, 'first-name'), env: {} });
  assert.deepEqual(await resolveFromDebianPackages(TOOL, { PATH: second }), { command: join(second, 'second-name'), env: {} });
});

test('without apt-get it fails with one line that says what to install or set', async () => {
  const empty = binDir('empty', []);
  await assert.rejects(resolveFromDebianPackages(TOOL, { PATH: empty }), (error: Error) => {
    assert.equal(
      error.message,
      'first-name is not on PATH and `apt-get` is missing, so it cannot be installed into .tools/switchyard-test-tool-that-does-not-exist/: install the test tool or set SWITCHYARD_TEST_TOOL',
    );
    return true;
  });
});
