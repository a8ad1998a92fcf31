// scripts/chromium.ts: where the browser tests' Chromium comes from, and that
// the one it resolves here (installed into .tools/chromium/ when missing)
// renders a page headless through playwright-core with the project's flags.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { chromium } from 'playwright-core';
import { CHROMIUM_FLAGS, resolveChromium } from '../../scripts/chromium';
import { executableStubs } from '../support/executable-stubs';

const { binDir, remove } = executableStubs();
after(remove);

test('CHROMIUM_PATH wins over a chromium on PATH', async () => {
  const path = binDir('chromium', ['chromium']);
  assert.deepEqual(await resolveChromium({ CHROMIUM_PATH: '/opt/chrome/chrome', PATH: path }), { command: '/opt/chrome/chrome', env: {} });
});

test('on PATH: chromium, then chromium-browser, then google-chrome', async () => {
  const all = binDir('all', ['chromium', 'chromium-browser', 'google-chrome']);
  const browserAndChrome = binDir('browser-and-chrome', ['chromium-browser', 'google-chrome']);
  const chrome = binDir('chrome', ['google-chrome']);
  assert.equal((await resolveChromium({ PATH: `${chrome}:${browserAndChrome}:${all}` })).command, join(all, 'chromium'));
  assert.equal((await resolveChromium({ PATH: `${chrome}:${browserAndChrome}` })).command, join(browserAndChrome, 'chromium-browser'));
  assert.equal((await resolveChromium({ PATH: chrome })).command, join(chrome, 'google-chrome'));
});

test('the resolved Chromium renders a page headless through playwright-core', async () => {
  const { command, env } = await resolveChromium();
  const browser = await chromium.launch({ executablePath: command, env: { ...process.env, ...env }, args: [...CHROMIUM_FLAGS] });
  try {
    const page = await browser.newPage();
    await page.setContent('<p id="greeting">Switchyard</p>');
    assert.equal(await page.textContent('#greeting'), 'Switchyard');
    assert.match(String(await page.evaluate('navigator.userAgent')), /HeadlessChrome/);
    assert.ok((await page.screenshot()).length > 0);
  } finally {
    await browser.close();
  }
});
