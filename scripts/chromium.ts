// The browser of the browser tests (test/e2e/dashboard.test.ts): Chromium from
// CHROMIUM_PATH, PATH or .tools/chromium/ (Debian's packages, unpacked on first
// use), never a browser download, which this closed network does not allow.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { resolveFromDebianPackages, type DebianTool, type ToolCommand } from './debian-packages';

const execFileAsync = promisify(execFile);
const CHECK_TIMEOUT_MS = 90_000;

/**
 * Flags for a headless Chromium that contacts nothing but the pages it is sent
 * to. playwright-core adds several of them itself (and its own fresh
 * `--user-data-dir`); repeating a switch is harmless, and the list also serves
 * a Chromium started without playwright.
 */
export const CHROMIUM_FLAGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Text Chromium prints when it would render every glyph blank. */
const NO_FONTS = /Fontconfig error|Could not find any font/;

const CHROMIUM: DebianTool = {
  name: 'chromium',
  envVariable: 'CHROMIUM_PATH',
  pathNames: ['chromium', 'chromium-browser', 'google-chrome'],
  // `chromium` has the executable, `chromium-common` the .pak files and V8 snapshots beside it.
  packages: ['chromium', 'chromium-common'],
  // A font for a system with none (chromium only recommends one): text would be blank in screenshots.
  packagesWhenMissing: ['fonts-dejavu-core'],
  command: 'usr/lib/chromium/chromium',
  hint: 'install Chromium (Debian: `sudo apt-get install chromium`) or Google Chrome, or set CHROMIUM_PATH to its executable',
  setUp: writeFontConfig,
  check: renderTestPage,
};

/**
 * Chromium: `$CHROMIUM_PATH`, else `chromium`, `chromium-browser` or
 * `google-chrome` on PATH, else `.tools/chromium/`, installed first from
 * Debian's packages when missing (no root needed). Launch it with `env`
 * added to the environment and with {@link CHROMIUM_FLAGS}.
 */
export function resolveChromium(env: NodeJS.ProcessEnv = process.env): Promise<ToolCommand> {
  return resolveFromDebianPackages(CHROMIUM, env);
}

/**
 * When the system lacked fontconfig's configuration or a font, they were
 * unpacked into the tree too; a config beside them adds them to the system's.
 * Paths are relative to the config file, so the tree can be renamed into place.
 */
async function writeFontConfig(root: string): Promise<Record<string, string>> {
  if (!existsSync(join(root, 'usr/share/fonts')) && !existsSync(join(root, 'etc/fonts/fonts.conf'))) return {};
  const config = `<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <include ignore_missing="yes" prefix="relative">etc/fonts/fonts.conf</include>
  <dir prefix="relative">usr/share/fonts</dir>
  <cachedir prefix="xdg">fontconfig</cachedir>
</fontconfig>
`;
  await writeFile(join(root, 'fonts.conf'), config);
  return { FONTCONFIG_FILE: 'fonts.conf' };
}

/** Screenshots a page with text: proves the libraries load, headless rendering works and a font is found. */
async function renderTestPage(tool: ToolCommand): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'switchyard-chromium-check-'));
  try {
    const screenshot = join(dir, 'check.png');
    const args = [...CHROMIUM_FLAGS, `--user-data-dir=${join(dir, 'profile')}`, `--screenshot=${screenshot}`, '--window-size=200,100', 'data:text/html,<p>Switchyard</p>'];
    const { stderr } = await execFileAsync(tool.command, args, { env: { ...process.env, ...tool.env }, encoding: 'utf8', timeout: CHECK_TIMEOUT_MS });
    if (!(await stat(screenshot).catch(() => undefined))?.size) throw new Error(`no screenshot written\n${stderr}`);
    const noFonts = stderr.split('\n').find((line) => NO_FONTS.test(line));
    if (noFonts) throw new Error(`it finds no font: ${noFonts}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
