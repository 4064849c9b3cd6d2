// A user at a headless browser, for authx's single sign-on tests: opens the
// URL given as the last argument in Debian's chromium (through
// puppeteer-core), and walks oidc-provider's own pages as a person would:
// the device code confirmation, the login form (the test user's login and
// password), the consent page. It stops when the browser lands outside the
// IdP (the loopback redirect of an authorization code flow, which it
// follows so that authx receives the code) or on the device flow's success
// page. IDPTEST_ACTION=deny clicks the abort link instead of consenting.
//
// Environment: IDPTEST_CHROMIUM (the executable), IDPTEST_ISSUER,
// IDPTEST_USER, IDPTEST_PASSWORD, IDPTEST_ACTION (approve | deny),
// IDPTEST_PROFILES (where chromium's throwaway profile goes).
// It prints "landed URL" and "page: TEXT" (the landing page's text) or
// "success" on stdout, or fails with
// exit status 1 and the reason on stderr. Requests to any host other than
// 127.0.0.1 are refused, so the run needs no network.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer from 'puppeteer-core';

const url = process.argv[process.argv.length - 1];
const issuer = process.env.IDPTEST_ISSUER;
const action = process.env.IDPTEST_ACTION || 'approve';
const deadline = Date.now() + 30000;

function fail(msg) {
  process.stderr.write(`browser: ${msg}\n`);
  process.exit(1);
}
setTimeout(() => fail('timed out after 30s'), 30000).unref();

const browser = await puppeteer.launch({
  executablePath: process.env.IDPTEST_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  userDataDir: fs.mkdtempSync(path.join(process.env.IDPTEST_PROFILES || os.tmpdir(), 'chromium-')),
  pipe: true, // chromium quits when the pipe closes: it never outlives this script
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check'],
});
let landed = '';

// act takes one step on the page: fills and submits what it shows. It
// returns true when the flow is over (the device flow's success page).
async function act(page) {
  const title = await page.title();
  const step = async (fn) => {
    await Promise.all([
      page.waitForNavigation({ waitUntil: 'domcontentloaded', timeout: 10000 }).catch(() => {}),
      fn(),
    ]);
  };
  if (title === 'Sign-in Success') {
    console.log('success');
    return true;
  }
  if (await page.$('input[name="login"]')) {
    await page.type('input[name="login"]', process.env.IDPTEST_USER || '');
    await page.type('input[name="password"]', process.env.IDPTEST_PASSWORD || '');
    await step(() => page.click('button[type="submit"]'));
  } else if (await page.$('input[name="prompt"][value="consent"]')) {
    if (action === 'deny') {
      const abort = await page.$('a[href$="/abort"]');
      if (!abort) fail('no abort link on the consent page');
      await step(() => abort.click());
    } else {
      await step(() => page.click('form button[type="submit"]'));
    }
  } else if (await page.$('form[id="op.deviceConfirmForm"]')) {
    const sel = action === 'deny' ? 'button[name="abort"]' : 'button[autofocus]';
    await step(() => page.click(sel));
  } else if (!landed) {
    const text = await page.evaluate(() => document.body?.innerText || '');
    if (text) fail(`unexpected page ${JSON.stringify(title)} at ${page.url()}: ${text.replace(/\s+/g, ' ').slice(0, 300)}`);
    await new Promise((r) => setTimeout(r, 100)); // still loading
  }
  return false;
}
try {
  const page = await browser.newPage();
  await page.setRequestInterception(true);
  page.on('request', (req) => {
    const u = new URL(req.url());
    if (u.hostname !== '127.0.0.1') {
      req.abort();
      return;
    }
    if (!req.url().startsWith(issuer) && req.isNavigationRequest()) landed = req.url();
    req.continue();
  });
  await page.goto(url, { waitUntil: 'domcontentloaded' });
  for (;;) {
    if (Date.now() > deadline) fail('timed out');
    if (landed) {
      // Let the redirect finish so that the loopback listener answers.
      await page.waitForNetworkIdle({ idleTime: 100, timeout: 5000 }).catch(() => {});
      console.log(`landed ${landed}`);
      const text = await page.evaluate(() => document.body?.innerText || '').catch(() => '');
      console.log(`page: ${text.replace(/\s+/g, ' ').trim().slice(0, 200)}`);
      break;
    }
    let done;
    try {
      done = await act(page);
    } catch (e) {
      // A navigation (a redirect, a form post) replaced the page under
      // the step: look at the new one.
      if (!/context was destroyed|detached|navigat|Target closed/i.test(String(e))) throw e;
      await new Promise((r) => setTimeout(r, 100));
      continue;
    }
    if (done) break;
  }
} finally {
  await browser.close();
}
process.exit(0);
