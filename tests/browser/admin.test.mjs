// The admin page in headless Chromium (Debian's /usr/bin/chromium, driven
// by playwright-core): sign in, the Datadog form, a missing field, a valid
// credential checked by the mock provider, the index, re-test, rename,
// connect, paging and search, delete behind its confirmation page,
// sign out; basic accessibility on every page (labels, headings, visible
// focus, phone width).  Started by run.sh, which sets up the server and
// passes BASE_URL, TOKEN, OUT_DIR, MOCK_URL and PW_DIR.
//
// Prints "ok N - ..." / "not ok N - ..." per step, then one summary line
// "P%: Checks: N, Failures: F, Errors: 0"; exits 0 only if F == 0.

import { createRequire } from 'node:module';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const env = (k, d) => {
  const v = process.env[k] ?? d;
  if (v === undefined || v === '') {
    console.error(`admin.test.mjs: ${k} is not set (run it through run.sh)`);
    process.exit(99);
  }
  return v;
};
const BASE = env('BASE_URL');
const TOKEN = env('TOKEN');
const OUT = env('OUT_DIR');
const MOCK = env('MOCK_URL');
const PW_DIR = env('PW_DIR', new URL('.', import.meta.url).pathname);
const CHROMIUM = env('CHROMIUM', '/usr/bin/chromium');
const SERVER_LOG = process.env.SERVER_LOG;	// lighttpd's and credstore's stderr

const GOOD_KEY = 'browser-good-key';
const APP_KEY = 'browser-app-key';
const LABEL = 'Browser test';
const RENAMED = 'Renamed <b>&"';
const PHONE = { width: 375, height: 740 };
const STEP_MS = 30000;	// one step, whatever it waits for
const ALL_MS = 240000;	// the whole run

mkdirSync(OUT, { recursive: true });
const require = createRequire(join(PW_DIR, 'package.json'));
let chromium;
try {
  ({ chromium } = require('playwright-core'));
} catch (e) {
  console.error(`admin.test.mjs: cannot load playwright-core from ${PW_DIR}: ${e.message}`);
}

// --- state shared by the steps
let browser, ctx, page;
let credId, credUrl;
const bulk = [];	// the credentials stored for the paging step
const consoleErrors = [];

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

function watch(p, where) {
  p.on('console', (m) => {
    if (m.type() === 'error')
      consoleErrors.push(`${where}: ${m.text()} (${m.location().url || p.url()})`);
  });
  p.on('pageerror', (e) => consoleErrors.push(`${where}: page error: ${e.message}`));
}

async function shot(p, name) {
  await p.screenshot({ path: join(OUT, name), fullPage: true });
}

// Clicks what submits a form or follows a link; the final response.
async function navigate(p, clickable) {
  const [resp] = await Promise.all([
    p.waitForNavigation({ waitUntil: 'load' }),
    clickable.click(),
  ]);
  return resp;
}

async function mockRequests() {
  const r = await fetch(`${MOCK}/__mock/requests`);
  assert(r.ok, `mock provider: /__mock/requests answered ${r.status}`);
  return (await r.json()).filter((q) => q.path === '/api/v2/validate_keys');
}

function header(q, name) {
  for (const [k, v] of Object.entries(q.headers || {}))
    if (k.toLowerCase() === name.toLowerCase()) return v;
  return undefined;
}

// Basic accessibility of the page shown: every input/select/textarea
// (hidden ones aside) has an id and a non-empty label[for=id]; one h1,
// no h3 before the first h2, no heading level skipped; <html lang>.
async function a11y(p) {
  const problems = await p.evaluate(() => {
    const out = [];
    for (const el of document.querySelectorAll('input, select, textarea')) {
      if (el.type === 'hidden') continue;
      const name = el.name || el.outerHTML.slice(0, 60);
      if (!el.id) { out.push(`${name}: no id`); continue; }
      const lab = document.querySelector(`label[for="${CSS.escape(el.id)}"]`);
      if (!lab) out.push(`#${el.id}: no label[for=${el.id}]`);
      else if (lab.textContent.trim() === '') out.push(`#${el.id}: empty label`);
    }
    const hs = [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')];
    const levels = hs.map((h) => Number(h.tagName[1]));
    const h1s = levels.filter((l) => l === 1).length;
    if (h1s !== 1) out.push(`${h1s} h1 elements`);
    const firstH2 = levels.indexOf(2);
    const firstH3 = levels.indexOf(3);
    if (firstH3 !== -1 && (firstH2 === -1 || firstH3 < firstH2))
      out.push('an h3 before the first h2');
    let prev = 0;
    for (const [i, l] of levels.entries()) {
      if (l > prev + 1) out.push(`h${l} "${hs[i].textContent.trim()}" after h${prev}`);
      prev = l;
    }
    if (!document.documentElement.lang) out.push('no <html lang>');
    if (!document.title.trim()) out.push('no <title>');
    return out;
  });
  assert(problems.length === 0, problems.join('; '));
}

async function noHorizontalScroll(p, what) {
  const w = await p.evaluate(() => document.documentElement.scrollWidth);
  assert(w <= PHONE.width, `${what}: scrollWidth ${w} > ${PHONE.width}`);
}

async function signIn(p) {
  await p.goto(`${BASE}/admin/login`);
  await p.fill('#token', TOKEN);
  const resp = await navigate(p, p.getByRole('button', { name: 'Sign in' }));
  assert(resp && resp.status() === 200, `sign-in: status ${resp && resp.status()}`);
  assert(new URL(p.url()).pathname === '/admin/', `sign-in landed on ${p.url()}`);
}

const steps = [
  ['launch headless Chromium', async () => {
    assert(chromium, 'playwright-core did not load');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
        '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    ctx = await browser.newContext({ viewport: { width: 1024, height: 768 } });
    ctx.setDefaultTimeout(10000);
    page = await ctx.newPage();
    watch(page, 'desktop');
  }],

  ['sign-in page: token field, stylesheet applied under the CSP', async () => {
    const resp = await page.goto(`${BASE}/admin/`);
    assert(new URL(page.url()).pathname === '/admin/login',
      `/admin/ signed out went to ${page.url()}`);
    assert(resp.status() === 200, `status ${resp.status()}`);
    await page.locator('#token').waitFor({ state: 'visible' });
    assert(await page.getAttribute('#token', 'type') === 'password', '#token is not a password field');
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert(bg === 'rgb(246, 247, 249)', `style.css not applied (body background ${bg})`);
    await shot(page, '01-login.png');
  }],

  ['sign-in page: labels, headings', async () => { await a11y(page); }],

  ['sign in with a bad token: error shown, still signed out', async () => {
    await page.fill('#token', 'not-a-jwt');
    const resp = await navigate(page, page.getByRole('button', { name: 'Sign in' }));
    assert(resp.status() === 401, `status ${resp.status()}`);
    const alert = page.getByRole('alert');
    assert((await alert.textContent()).includes('not valid'), 'no "not valid" message');
    assert(await page.inputValue('#token') === '', 'the token field was not emptied');
  }],

  ['sign in: the index shows the tenant and no credentials', async () => {
    await signIn(page);
    const who = await page.locator('header .who').textContent();
    assert(who.includes('browser-admin') && who.includes('acme'), `header says "${who}"`);
    assert(await page.locator('article.cred').count() === 0, 'credentials already listed');
    assert(await page.getByText('No credentials stored yet.').isVisible(), 'no "No credentials stored yet."');
    await shot(page, '02-index-empty.png');
  }],

  ['index: labels, headings', async () => { await a11y(page); }],

  ['open the Datadog form', async () => {
    const resp = await navigate(page, page.getByRole('link', { name: 'Datadog', exact: true }));
    assert(resp.status() === 200, `status ${resp.status()}`);
    assert(new URL(page.url()).pathname === '/admin/integrations/datadog', page.url());
    assert((await page.locator('h1').textContent()).trim() === 'Datadog', 'h1 is not "Datadog"');
    for (const [id, type] of [['f-api_key', 'password'], ['f-application_key', 'password'], ['f-label', 'text']])
      assert(await page.getAttribute(`#${id}`, 'type') === type, `#${id} is not type=${type}`);
    assert(await page.inputValue('#f-site') === 'datadoghq.com', 'site default is not datadoghq.com');
    await shot(page, '03-datadog-form.png');
  }],

  ['Datadog form: labels, headings', async () => { await a11y(page); }],

  ['submit with a missing field: error next to it, label kept, secrets empty', async () => {
    await page.fill('#f-api_key', GOOD_KEY);
    await page.selectOption('#f-site', 'datadoghq.eu');
    await page.fill('#f-label', LABEL);
    const before = (await mockRequests()).length;
    const resp = await navigate(page, page.getByRole('button', { name: 'Save' }));
    assert(resp.status() === 400, `status ${resp.status()}`);
    const err = page.locator('#e-application_key');
    assert(await err.isVisible(), 'no #e-application_key shown');
    assert((await err.textContent()).trim() === 'This field is required.',
      `error text "${await err.textContent()}"`);
    const bound = await page.evaluate(() => {
      const f = document.getElementById('f-application_key');
      const e = document.getElementById('e-application_key');
      return f && e && f.closest('.field') === e.closest('.field') &&
        f.getAttribute('aria-describedby') === 'e-application_key' &&
        f.getAttribute('aria-invalid') === 'true';
    });
    assert(bound, 'the error is not in the field\'s block or not bound by aria-describedby/aria-invalid');
    // the error sits just below its own field
    const fb = await page.locator('#f-application_key').boundingBox();
    const eb = await err.boundingBox();
    assert(eb.y >= fb.y + fb.height && eb.y - (fb.y + fb.height) < 40,
      `error at y=${eb.y}, field ends at y=${fb.y + fb.height}`);
    assert(await page.locator('#e-api_key').count() === 0, 'an error on api_key too');
    assert(await page.inputValue('#f-label') === LABEL, 'the label was not kept');
    assert(await page.inputValue('#f-site') === 'datadoghq.eu', 'the site was not kept');
    assert(await page.inputValue('#f-api_key') === '', 'the API key was sent back');
    assert(await page.inputValue('#f-application_key') === '', 'the application key was sent back');
    assert(!(await page.content()).includes(GOOD_KEY), 'the secret is in the page');
    assert((await mockRequests()).length === before, 'the provider was called for an invalid form');
    await shot(page, '04-form-missing-field.png');
  }],

  ['form with an error: labels, headings', async () => { await a11y(page); }],

  ['submit valid values: the result page shows validated', async () => {
    const before = (await mockRequests()).length;
    await page.fill('#f-api_key', GOOD_KEY);
    await page.fill('#f-application_key', APP_KEY);
    const resp = await navigate(page, page.getByRole('button', { name: 'Save' }));
    assert(resp.status() === 200, `status ${resp.status()}`);
    const m = new URL(page.url()).pathname.match(
      /^\/admin\/integrations\/datadog\/credentials\/(crd_[A-Za-z0-9_-]+)$/);
    assert(m, `landed on ${page.url()}`);
    credId = m[1];
    credUrl = page.url();
    assert((await page.textContent('#status')).trim() === 'validated',
      `status is "${await page.textContent('#status')}"`);
    assert((await page.textContent('#credential-id')).trim() === credId, 'credential id differs');
    assert((await page.locator('h1').textContent()).includes(LABEL), 'the label is not in the h1');
    assert(!(await page.content()).includes(GOOD_KEY), 'the secret is in the page');
    const reqs = await mockRequests();
    assert(reqs.length === before + 1, `${reqs.length - before} provider calls`);
    const q = reqs[reqs.length - 1];
    assert(header(q, 'DD-API-KEY') === GOOD_KEY, 'the provider did not get the API key');
    assert(header(q, 'DD-APPLICATION-KEY') === APP_KEY, 'the provider did not get the application key');
    await shot(page, '05-result-validated.png');
  }],

  ['result page: labels, headings', async () => { await a11y(page); }],

  ['the index lists it as validated', async () => {
    assert(credId, 'no credential (an earlier step failed)');
    await navigate(page, page.getByRole('link', { name: '← All integrations' }));
    const art = page.locator('article.cred', { hasText: credId });
    assert(await art.count() === 1, `${await art.count()} entries for ${credId}`);
    assert((await art.locator('.status').textContent()).trim() === 'validated', 'not validated on the index');
    assert((await art.locator('h3').textContent()).includes(`Datadog — ${LABEL}`), 'name/label not shown');
    await shot(page, '06-index-listed.png');
  }],

  ['index with a credential: labels, headings', async () => { await a11y(page); }],

  ['re-test it from the index', async () => {
    assert(credId, 'no credential (an earlier step failed)');
    const before = (await mockRequests()).length;
    const art = page.locator('article.cred', { hasText: credId });
    const resp = await navigate(page, art.getByRole('button', { name: 'Re-test' }));
    assert(resp.status() === 200, `status ${resp.status()}`);
    assert(page.url() === `${credUrl}?done=retested`, `landed on ${page.url()}`);
    const note = (await page.getByRole('status').textContent()).trim();
    assert(note === 'Tested again: validated.', `notice says "${note}"`);
    assert((await page.textContent('#status')).trim() === 'validated', 'status changed');
    assert((await mockRequests()).length === before + 1, 'the provider was not called again');
    await shot(page, '07-retested.png');
  }],

  ['focus is visible: Tab reaches the buttons, each with an outline', async () => {
    const rule = await page.evaluate(() => [...document.styleSheets].some((s) =>
      [...s.cssRules].some((r) => (r.selectorText || '').includes(':focus-visible'))));
    assert(rule, 'the stylesheet has no :focus-visible rule');
    await page.evaluate(() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); });
    const seen = [];
    for (let i = 0; i < 30 && !seen.includes('Re-test'); i++) {
      await page.keyboard.press('Tab');
      const f = await page.evaluate(() => {
        const el = document.activeElement;
        if (!el || el.tagName !== 'BUTTON') return null;
        const cs = getComputedStyle(el);
        return { text: el.textContent.trim(), fv: el.matches(':focus-visible'),
          style: cs.outlineStyle, width: cs.outlineWidth };
      });
      if (!f) continue;
      assert(f.fv, `"${f.text}" is focused but not :focus-visible`);
      assert(f.style !== 'none' && parseFloat(f.width) > 0,
        `"${f.text}" has no visible outline (${f.style} ${f.width})`);
      seen.push(f.text);
    }
    assert(seen.includes('Re-test'), `Tab reached only these buttons: ${seen.join(', ') || 'none'}`);
    await shot(page, '08-focus-visible.png');
  }],

  ['rename it from its page; a reload does not post again', async () => {
    assert(credUrl, 'no credential (an earlier step failed)');
    await page.goto(credUrl);
    assert(await page.inputValue('#r-label') === LABEL, 'the rename form does not show the label');
    await page.fill('#r-label', RENAMED);
    const resp = await navigate(page, page.getByRole('button', { name: 'Save the label' }));
    assert(resp.status() === 200, `status ${resp.status()}`);
    assert(page.url() === `${credUrl}?done=renamed`, `landed on ${page.url()}`);
    assert((await page.getByRole('status').textContent()).trim() === 'The label was saved.', 'no notice');
    assert((await page.locator('h1').textContent()).includes(RENAMED), 'the h1 has not the new label');
    const again = await page.reload();
    assert(again.request().method() === 'GET', `a reload sent ${again.request().method()}`);
    assert(again.status() === 200, `reload: status ${again.status()}`);
    await shot(page, '08a-renamed.png');
  }],

  ['credential page with its forms: labels, headings', async () => { await a11y(page); }],

  ['a label too long: the form again, 400, the label as typed', async () => {
    const long = 'x'.repeat(201);
    await page.evaluate((v) => { document.getElementById('r-label').removeAttribute('maxlength');
      document.getElementById('r-label').value = v; }, long);
    const resp = await navigate(page, page.getByRole('button', { name: 'Save the label' }));
    assert(resp.status() === 400, `status ${resp.status()}`);
    assert(await page.inputValue('#r-label') === long, 'the label was not kept');
    assert(await page.locator('#e-r-label').isVisible(), 'no error next to the label');
    assert((await page.locator('h1').textContent()).includes(RENAMED), 'the stored label changed');
  }],

  ['connect it from its page: the API shows the connection', async () => {
    await page.goto(credUrl);
    assert((await page.textContent('#connection')).trim() === 'Not connected', 'connected already');
    const resp = await navigate(page, page.getByRole('button', { name: 'Connect this credential' }));
    assert(resp.status() === 200, `status ${resp.status()}`);
    assert(page.url() === `${credUrl}?done=connected`, `landed on ${page.url()}`);
    assert((await page.textContent('#connection')).includes('Connected with this credential'),
      `connection: "${await page.textContent('#connection')}"`);
    const r = await fetch(`${BASE}/v1/integrations/datadog/connect`,
      { headers: { Authorization: `Bearer ${TOKEN}` } });
    assert(r.status === 200, `GET connect: ${r.status}`);
    assert((await r.json()).credentialId === credId, 'the API shows another credential');
    await shot(page, '08b-connected.png');
  }],

  ['delete while connected: confirmation, then 409 with the message', async () => {
    let resp = await navigate(page, page.getByRole('link', { name: 'Delete…' }));
    assert(resp.status() === 200, `confirmation: status ${resp.status()}`);
    assert(new URL(page.url()).pathname === `${new URL(credUrl).pathname}/delete`, page.url());
    resp = await navigate(page, page.getByRole('button', { name: 'Delete it' }));
    assert(resp.status() === 409, `status ${resp.status()}`);
    assert((await page.getByRole('alert').textContent()).includes('disconnect first'), 'no conflict message');
    const r = await fetch(`${BASE}/v1/integrations/datadog/credentials/${credId}`,
      { headers: { Authorization: `Bearer ${TOKEN}` } });
    assert(r.status === 200, `the credential: ${r.status}`);
  }],

  ['disconnect it from its page', async () => {
    await page.goto(credUrl);
    const resp = await navigate(page, page.getByRole('button', { name: 'Disconnect' }));
    assert(resp.status() === 200, `status ${resp.status()}`);
    assert(page.url() === `${credUrl}?done=disconnected`, `landed on ${page.url()}`);
    const r = await fetch(`${BASE}/v1/integrations/datadog/connect`,
      { headers: { Authorization: `Bearer ${TOKEN}` } });
    assert(r.status === 404, `GET connect: ${r.status}`);
  }],

  ['page through 56 credentials, search by label', async () => {
    for (let i = 0; i < 55; i++) {
      const r = await fetch(`${BASE}/v1/integrations/sentry/credentials`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ credentials: { auth_token: `bulk-secret-${i}` }, label: `bulk-${i}` }),
      });
      assert(r.status === 201, `store ${i}: ${r.status}`);
      bulk.push((await r.json()).credentialId);
    }
    await page.goto(`${BASE}/admin/`);
    assert((await page.textContent('#count')).trim() === 'Showing 1–50 of 56', `"${await page.textContent('#count')}"`);
    const ids = await page.locator('article.cred code').allTextContents();
    await navigate(page, page.getByRole('link', { name: 'Next →' }));
    assert((await page.textContent('#count')).trim() === 'Showing 51–56 of 56', `"${await page.textContent('#count')}"`);
    ids.push(...await page.locator('article.cred code').allTextContents());
    assert(ids.length === 56 && new Set(ids).size === 56, `${ids.length} listed, ${new Set(ids).size} different`);
    assert(ids.includes(credId), 'the Datadog credential is on neither page');
    await shot(page, '08c-page-2.png');
    await page.fill('#q', RENAMED.slice(0, 7).toUpperCase());
    await navigate(page, page.getByRole('button', { name: 'Search' }));
    assert(await page.locator('article.cred').count() === 1, 'the search does not find it alone');
    assert((await page.textContent('#count')).includes('of 1 matching'), `"${await page.textContent('#count')}"`);
    await a11y(page);
    await shot(page, '08d-search.png');
    for (const id of bulk) {
      const r = await fetch(`${BASE}/v1/integrations/sentry/credentials/${id}`,
        { method: 'DELETE', headers: { Authorization: `Bearer ${TOKEN}` } });
      assert(r.status === 204, `delete ${id}: ${r.status}`);
    }
  }],

  ['phone width 375: no horizontal scroll on any page', async () => {
    assert(credUrl, 'no credential (an earlier step failed)');
    const pc = await browser.newContext({ viewport: PHONE, isMobile: true, hasTouch: true });
    pc.setDefaultTimeout(10000);
    try {
      const p = await pc.newPage();
      watch(p, 'phone');
      await p.goto(`${BASE}/admin/login`);
      await noHorizontalScroll(p, 'sign-in');
      await shot(p, '09-phone-login.png');
      await signIn(p);
      await noHorizontalScroll(p, 'index');
      await shot(p, '10-phone-index.png');
      await p.goto(`${BASE}/admin/integrations/datadog`);
      await noHorizontalScroll(p, 'form');
      await shot(p, '11-phone-form.png');
      await p.fill('#f-label', 'phone');
      const resp = await navigate(p, p.getByRole('button', { name: 'Save' }));
      assert(resp.status() === 400, `form error: status ${resp.status()}`);
      await noHorizontalScroll(p, 'form with errors');
      await shot(p, '12-phone-form-errors.png');
      await p.goto(credUrl);
      await noHorizontalScroll(p, 'result');
      await shot(p, '13-phone-result.png');
    } finally {
      await pc.close();
    }
  }],

  ['delete it: gone from the index', async () => {
    assert(credId, 'no credential (an earlier step failed)');
    await page.goto(credUrl);
    let resp = await navigate(page, page.getByRole('link', { name: 'Delete…' }));
    assert(resp.status() === 200, `confirmation: status ${resp.status()}`);
    assert((await page.locator('h1').textContent()).startsWith('Delete Datadog'), 'not the confirmation page');
    await a11y(page);
    await shot(page, '14a-confirm-delete.png');
    resp = await navigate(page, page.getByRole('button', { name: 'Delete it' }));
    assert(resp.status() === 200, `status ${resp.status()}`);
    assert(new URL(page.url()).pathname === '/admin/', `landed on ${page.url()}`);
    assert(await page.locator('article.cred', { hasText: credId }).count() === 0, 'still listed');
    assert(await page.getByText('No credentials stored yet.').isVisible(), 'no "No credentials stored yet."');
    if (!(await page.content()).includes('The credential was deleted.'))
      throw new Error('the index does not say the credential was deleted');
    await shot(page, '14-deleted.png');
  }],

  ['the deleted credential\'s page: 404 page, labels, headings', async () => {
    assert(credUrl, 'no credential (an earlier step failed)');
    const gone = await page.goto(credUrl);
    assert(gone.status() === 404, `status ${gone.status()}`);
    assert(await page.getByRole('alert').isVisible(), 'no error message shown');
    await a11y(page);
    await shot(page, '15-deleted-404.png');
  }],

  ['sign out: back to the sign-in page, admin pages closed', async () => {
    await page.goto(`${BASE}/admin/`);
    const resp = await navigate(page, page.getByRole('button', { name: 'Sign out' }));
    assert(resp.status() === 200, `status ${resp.status()}`);
    assert(new URL(page.url()).pathname === '/admin/login', `landed on ${page.url()}`);
    assert((await page.getByRole('alert').textContent()).includes('signed out'), 'no "signed out" notice');
    await shot(page, '16-signed-out.png');
    await page.goto(`${BASE}/admin/`);
    assert(new URL(page.url()).pathname === '/admin/login', `/admin/ after sign-out: ${page.url()}`);
  }],

  ['no sanitizer reports in the server log', async () => {
    if (!SERVER_LOG) return;
    const log = readFileSync(SERVER_LOG, 'utf8');
    const m = log.match(/.*(AddressSanitizer|LeakSanitizer|runtime error:).*/);
    assert(!m, m && m[0]);
  }],

  ['no Content-Security-Policy violations or script errors', async () => {
    for (const e of consoleErrors) console.log(`# console: ${e}`);
    const bad = consoleErrors.filter((e) => /Content Security Policy|page error/i.test(e));
    assert(bad.length === 0, bad.join('; '));
  }],
];

let n = 0;
let failures = 0;

function report(ok, desc, err) {
  n++;
  if (!ok) failures++;
  console.log(`${ok ? 'ok' : 'not ok'} ${n} - ${desc}`);
  if (err) for (const l of String(err.message || err).replace(/\x1b\[[0-9;]*m/g, '').split('\n').slice(0, 6)) console.log(`#   ${l}`);
}

function serverLogTail() {
  if (failures === 0 || !SERVER_LOG) return;
  try {
    const lines = readFileSync(SERVER_LOG, 'utf8').trimEnd().split('\n').slice(-25);
    console.log(`# last lines of ${SERVER_LOG}:`);
    for (const l of lines) console.log(`#   ${l}`);
  } catch (e) {
    console.log(`# ${SERVER_LOG}: ${e.message}`);
  }
}

function summary() {
  serverLogTail();
  const pct = n > 0 ? Math.floor((100 * (n - failures)) / n) : 0;
  console.log(`${pct}%: Checks: ${n}, Failures: ${failures}, Errors: 0`);
}

let current = 0;
const watchdog = setTimeout(() => {
  for (let i = current; i < steps.length; i++)
    report(false, steps[i][0], i === current ? `the whole run took over ${ALL_MS / 1000} s` : 'not run');
  summary();
  process.exit(1);
}, ALL_MS);

const t0 = Date.now();
const times = [];
for (const [desc, fn] of steps) {
  let timer;
  const ts = Date.now();
  if (current > 0 && !page) {
    report(false, desc, 'not run: Chromium did not start');
    current++;
    continue;
  }
  try {
    await Promise.race([fn(), new Promise((_, rej) => {
      timer = setTimeout(() => rej(new Error(`timed out after ${STEP_MS / 1000} s`)), STEP_MS);
    })]);
    report(true, desc);
  } catch (e) {
    report(false, desc, e);
  } finally {
    clearTimeout(timer);
  }
  times.push(`${current + 1}:${((Date.now() - ts) / 1000).toFixed(1)}`);
  current++;
}
if (browser) await browser.close().catch(() => {});
clearTimeout(watchdog);
console.log(`# ${((Date.now() - t0) / 1000).toFixed(1)} s (per step: ${times.join(' ')}); screenshots in ${OUT}`);
summary();
process.exit(failures === 0 ? 0 : 1);
