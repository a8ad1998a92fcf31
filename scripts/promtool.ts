// promtool, for the alert rules' unit tests (`promtool test rules`): from
// $PROMTOOL, else PATH, else Debian's `prometheus` package unpacked into
// .tools/prometheus/ on first use (scripts/debian-packages.ts).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { resolveFromDebianPackages, type DebianTool, type ToolCommand } from './debian-packages';

const execFileAsync = promisify(execFile);

const PROMETHEUS: DebianTool = {
  name: 'prometheus',
  envVariable: 'PROMTOOL',
  pathNames: ['promtool'],
  packages: ['prometheus'],
  command: 'usr/bin/promtool',
  hint: 'install Prometheus (`sudo apt-get install prometheus`, which has promtool) or set PROMTOOL to a promtool binary',
  async check(tool) {
    const { stdout, stderr } = await execFileAsync(tool.command, ['--version'], { env: { ...process.env, ...tool.env }, encoding: 'utf8' });
    if (!`${stdout}${stderr}`.includes('promtool')) throw new Error(`unexpected output: ${stdout.trim()}`);
  },
};

export function resolvePromtool(env: NodeJS.ProcessEnv = process.env): Promise<ToolCommand> {
  return resolveFromDebianPackages(PROMETHEUS, env);
}
