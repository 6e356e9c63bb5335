// The web console, end to end, as a catalog manager uses it: Debian's chromium (headless), driven by
// playwright-core, against a running `productsmanager serve`. Started by productsmanager-cli/tests/console.rs, which
// starts the server and passes everything in PM_E2E (JSON):
//   { base, email, password, chromium, screenshots, imports: [{ file, preset, created, refused, errors: [[line, column]] }],
//     search, product, category, variants }
// Exits non-zero on the first expectation that does not hold, saying which.

import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import path from 'node:path';
import fs from 'node:fs';

const config = JSON.parse(process.env.PM_E2E ?? '{}');
fs.mkdirSync(config.screenshots, { recursive: true });

const browser = await chromium.launch({
  executablePath: config.chromium,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});

const step = (what) => console.log(`console e2e: ${what}`);
const shot = async (page, name) => page.screenshot({ path: path.join(config.screenshots, `${name}.png`), fullPage: true });

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (error) => problems.push(`script error: ${error.message}`));
  // Refusals (401, 409, 422) are answers the pages show; a missing resource or a server error is a fault.
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      problems.push(`console: ${message.text()}`);
    }
  });
  page.on('response', (response) => {
    if (response.status() === 404 || response.status() >= 500) problems.push(`${response.status()} ${response.url()}`);
  });
  page.setDefaultTimeout(15000);

  step('a visitor is sent to the sign-in page');
  await page.goto(`${config.base}/console/products`);
  assert.match(page.url(), /\/console\/login\?next=%2Fconsole%2Fproducts$/);
  await shot(page, '01-sign-in');

  step('a wrong password is refused on the form');
  await page.fill('#email', config.email);
  await page.fill('#password', 'not-the-password');
  await page.click('button[type=submit]');
  await page.locator('.problem').waitFor();
  assert.match(await page.locator('.problem').innerText(), /Unauthorized/);

  step('sign in, back to the page asked for');
  await page.fill('#password', config.password);
  await page.click('button[type=submit]');
  await page.waitForURL(`${config.base}/console/products`);
  const cookies = await context.cookies();
  for (const name of ['pm_access', 'pm_refresh']) {
    const cookie = cookies.find((c) => c.name === name);
    assert.ok(cookie, `cookie ${name} set`);
    assert.equal(cookie.httpOnly, true, `${name} is HttpOnly`);
    assert.equal(cookie.sameSite, 'Strict', `${name} is SameSite=Strict`);
  }

  step('add a supplier from the imports page');
  await page.click('nav >> text=Imports');
  await page.waitForURL(`${config.base}/console/imports`);
  await page.fill('#code', 'shop');
  await page.fill('#name', 'Sample shop');
  await page.click('#new-supplier-form button[type=submit]');
  await page.waitForURL(`${config.base}/console/imports`);
  await page.locator('#supplier option[value=shop]').waitFor({ state: 'attached' });

  step('a dry run shows what the file would change and what it refuses, writing nothing');
  const own = config.imports[config.imports.length - 1];
  await page.setInputFiles('#file', own.file);
  await page.selectOption('#supplier', 'shop');
  await page.selectOption('#preset', own.preset);
  await page.check('#dry_run');
  await page.click('form.upload button[type=submit]');
  await page.waitForURL(/\/console\/imports\/[0-9a-f-]{36}$/);
  await page.locator('#no-errors, #errors').first().waitFor({ timeout: 120000 });
  assert.equal(await page.locator('#diffs tbody tr').count(), own.created, 'one row per product it would create');
  assert.equal(await page.locator('#diffs .badge.new').count(), own.created);
  assert.equal(await page.locator('#errors tbody tr').count(), own.refused, 'the refused rows, with their reasons');
  await shot(page, '02a-import-dry-run');
  await page.goto(`${config.base}/console/imports`);

  // A second tab on the dashboard, listening: each finished import must reach it live, without a reload.
  const watcher = await context.newPage();
  await watcher.goto(`${config.base}/console`);
  await watcher.waitForFunction(() => document.body.dataset.live === 'connected');
  await watcher.waitForFunction(() => !document.getElementById('notification-count').hasAttribute('hx-get'));
  let told = Number(await watcher.locator('#notification-count').getAttribute('data-count'));

  for (const [index, expected] of config.imports.entries()) {
    const name = path.basename(expected.file);
    step(`upload ${name} with the ${expected.preset} preset`);
    await page.goto(`${config.base}/console/imports`);
    await page.setInputFiles('#file', expected.file);
    await page.selectOption('#supplier', 'shop');
    await page.selectOption('#preset', expected.preset);
    await page.click('form.upload button[type=submit]');
    await page.waitForURL(/\/console\/imports\/[0-9a-f-]{36}$/);

    step('watch the import finish (the progress part updates itself)');
    await page.locator('#no-errors, #errors').first().waitFor({ timeout: 120000 });
    assert.equal(await page.locator('#created').innerText(), String(expected.created), `${name}: offers created`);
    assert.equal(await page.locator('#refused').innerText(), String(expected.refused), `${name}: rows refused`);
    // A job that refused rows is never shown green: amber "completed with errors: N of M rows refused".
    if (expected.refused === 0) {
      assert.equal(await page.locator('.badge.succeeded').count(), 1, `${name}: succeeded`);
    } else {
      assert.equal(await page.locator('.badge.succeeded').count(), 0, `${name}: not green`);
      assert.match(await page.locator('#progress .badge').innerText(), new RegExp(`(completed with errors|failed): ${expected.refused} of \\d+ rows refused`));
    }
    if (expected.refused === 0) {
      assert.equal(await page.locator('#no-errors').count(), 1);
    } else {
      const rows = await page.locator('#errors tbody tr').evaluateAll((trs) =>
        trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.innerText)));
      assert.deepEqual(rows.map((cells) => [Number(cells[0]), Number(cells[1])]), expected.errors, `${name}: line and column of each refused row`);
      assert.ok(rows.every((cells) => cells[4].length > 0), 'each refused row has its reason');
      const download = page.waitForEvent('download');
      await page.click('text=Download all refused rows (CSV)');
      const csv = fs.readFileSync(await (await download).path(), 'utf8');
      assert.match(csv, /^line,column,column_name,value,code,reason/);
      assert.equal(csv.trim().split('\n').length, expected.refused + 1, 'the CSV has every refused row');
    }
    await shot(page, `0${2 + index}-import-${name}`);

    step('the other tab is told, live');
    await watcher.waitForFunction((before) => Number(document.getElementById('notification-count').dataset.count) > before, told);
    told += 1;
    const live = await watcher.locator('#notification-live').innerText();
    assert.match(live, /Import finished/);
    if (expected.refused > 0) assert.match(live, new RegExp(`${expected.refused} of \\d+ rows refused`), live);
  }
  await watcher.close();

  step('the notifications page lists them; mark them all read');
  await page.click('header .notifications');
  await page.waitForURL(`${config.base}/console/notifications`);
  // One per import, and one for the dry run.
  assert.equal(await page.locator('ul.notifications li.unread').count(), config.imports.length + 1);
  await page.click('text=Mark all');
  await page.waitForURL(`${config.base}/console/notifications`);
  assert.equal(await page.locator('ul.notifications li.unread').count(), 0);
  await page.waitForFunction(() => !document.getElementById('notification-count').hasAttribute('hx-get'));
  assert.equal(await page.locator('#notification-count').isHidden(), true, 'no unread count once all are read');

  step('probable duplicates: merge the mug listed twice, its old page shows the survivor, undo the merge');
  await page.click('nav >> text=Products');
  await page.click('#duplicates-link');
  await page.waitForURL(`${config.base}/console/products/duplicates`);
  const pair = page.locator('#duplicates-table tbody tr', { hasText: 'Blue enamel mug' });
  assert.equal(await pair.count(), 1, 'the mug without a GTIN is paired');
  assert.match(await pair.innerText(), /Enamel mug, blue/);
  assert.match(await pair.innerText(), /GTIN 4006381333931/, 'the one with a GTIN is kept');
  const duplicateHref = await pair.locator('td:nth-child(3) a').getAttribute('href');
  await shot(page, '05b-duplicates');
  await pair.locator('button', { hasText: 'Merge' }).click();
  await page.waitForURL(/saved=merged/);
  const survivorUrl = page.url().split('?')[0];
  assert.match(await page.locator('h1').innerText(), /^Enamel mug, blue$/);
  assert.match(await page.locator('#merge-list').innerText(), /Blue enamel mug .*moved 1 offer/);
  await shot(page, '05c-merged');
  await page.goto(`${config.base}${duplicateHref}`);
  assert.match(await page.locator('h1').innerText(), /^Enamel mug, blue$/, 'the old page answers with the survivor');
  await page.locator('#merged-away').waitFor();
  await page.goto(survivorUrl);
  await page.locator('#merge-list button', { hasText: 'Undo' }).click();
  await page.waitForURL(/saved=unmerged/);
  assert.match(await page.locator('h1').innerText(), /^Blue enamel mug$/, 'the duplicate is itself again');

  step('the dashboard lists the imports');
  await page.click('nav >> text=Dashboard');
  assert.equal(await page.locator('section[aria-labelledby=imports] tbody tr').count(), config.imports.length + 1);
  await page.locator('section[aria-labelledby=code2asin]').waitFor();
  await shot(page, '05-dashboard');

  step(`search "${config.search}" as you type`);
  await page.click('nav >> text=Products');
  await page.waitForURL(`${config.base}/console/products`);
  const before = page.url();
  await page.locator('#q').pressSequentially(config.search, { delay: 30 });
  const link = page.locator('#results a', { hasText: config.product });
  await link.first().waitFor();
  assert.equal(await page.locator('#results tbody tr').count() > 0, true);
  // The search is in the address, so a reload or a shared link shows the same results.
  await page.waitForURL((url) => url.searchParams.get('q') === config.search);
  assert.notEqual(page.url(), before);
  await page.reload();
  await link.first().waitFor();
  assert.equal(await page.inputValue('#q'), config.search, 'the search box keeps the words after a reload');
  const inTheCategory = await page.locator('#category_id option', { hasText: config.category }).first().getAttribute('value');
  await page.selectOption('#category_id', inTheCategory);
  await page.waitForURL((url) => url.searchParams.get('category_id') === inTheCategory);
  await link.first().waitFor();
  await shot(page, '06-products-search');

  step('open the product, set its price and its stock');
  await link.first().click();
  await page.locator('#set-price').waitFor();
  const productUrl = page.url();
  assert.match(await page.locator('section[aria-labelledby=categories]').innerText(), new RegExp(config.category));
  if (config.variants) assert.ok(await page.locator('#variants li').count() > 0, 'the parent lists its variants');
  const inCategory = page.locator('#category-list li', { hasText: config.category });
  await inCategory.locator('button', { hasText: 'Remove' }).click();
  await page.waitForURL(/#categories$/);
  assert.equal(await inCategory.count(), 0, 'taken out of the category');
  const choice = await page.locator('#category_id option', { hasText: config.category }).first().getAttribute('value');
  await page.selectOption('#category_id', choice);
  await page.click('#add-category button[type=submit]');
  await page.waitForURL(/#categories$/);
  assert.equal(await inCategory.count(), 1, 'put back in the category');
  await page.fill('#amount', '12.345');
  await page.click('#set-price button[type=submit]');
  await page.locator('#amount-error').waitFor();
  assert.match(await page.locator('#amount-error').innerText(), /more than 2 decimals/);
  assert.equal(await page.locator('#amount').getAttribute('aria-invalid'), 'true');
  await page.fill('#amount', '42.50');
  await page.fill('#currency', 'EUR');
  await page.click('#set-price button[type=submit]');
  await page.locator('.saved').waitFor();
  assert.match(await page.locator('#price-table').innerText(), /retail\s+42\.50 EUR/);
  await page.fill('#quantity', 'lots');
  await page.click('#set-stock button[type=submit]');
  await page.locator('#quantity-error').waitFor();
  await page.fill('#quantity', '17');
  await page.click('#set-stock button[type=submit]');
  await page.locator('.saved').waitFor();
  assert.match(await page.locator('#stock').innerText(), /^17 available/);
  await shot(page, '07-product');

  step('where the values come from: the title from the import, the price set here; lock and unlock the title');
  const titleSource = page.locator('#provenance-table tr[data-field=title]');
  assert.match(await titleSource.innerText(), /from Sample shop, import of \d+ \w+ \d{4}/);
  assert.match(await page.locator('#provenance-table tr[data-field="price:retail:EUR"]').innerText(), /set by a person/);
  assert.match(await page.locator('#provenance-table tr[data-field=stock]').innerText(), /set by a person/, 'the stock counted here');
  const links = page.locator('#provenance-table tr[data-field^="category:"]', { hasText: 'set by a person' });
  assert.equal(await links.count(), 1, 'the category link put back here has its source');
  assert.match(await links.first().innerText(), /Lock all categories/);
  await titleSource.locator('button', { hasText: 'Lock' }).click();
  await page.waitForURL(/saved=provenance/);
  assert.match(await titleSource.innerText(), /locked/);
  await shot(page, '07b-product-provenance');
  await titleSource.locator('button', { hasText: 'Unlock' }).click();
  await page.waitForFunction(() => !document.querySelector('#provenance-table tr[data-field=title]').innerText.includes('locked'));
  const history = await page.locator('#history-table').innerText();
  assert.match(history, /price:retail:EUR\s+42\.50 EUR\s+set by a person/, 'the price set here is in the history');
  assert.match(history, /title\s+unlocked[\s\S]*title\s+locked/, 'newest first: unlocked, then locked');
  assert.match(history, /categories\s+added: \S[\s\S]*categories\s+removed: \S/, 'the category put back, after taken out');

  step('a stale edit is refused and says so');
  const other = await context.newPage();
  await other.goto(productUrl);
  await other.fill('#title', `${config.product} (renamed elsewhere)`);
  await other.click('#edit button[type=submit]');
  await other.locator('.saved').waitFor();
  await other.close();
  await page.fill('#title', `${config.product} (my edit)`);
  await page.click('#edit button[type=submit]');
  await page.locator('#edit .problem').waitFor();
  assert.match(await page.locator('#edit .problem').innerText(), /Someone else changed this product/);
  assert.equal(await page.inputValue('#title'), `${config.product} (my edit)`, 'what was typed is kept');
  assert.match(await page.locator('h1').innerText(), /renamed elsewhere/);
  await shot(page, '08-product-conflict');

  step('images: upload two, move the second up, delete one');
  const fixtures = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures');
  for (const file of ['red.png', 'blue.png']) {
    await page.setInputFiles('#image-file', path.join(fixtures, file));
    await page.click('#image-upload button[type=submit]');
    await page.waitForURL(/#images$/);
  }
  const images = page.locator('#image-list li');
  assert.equal(await images.count(), 2);
  const order = async () => images.evaluateAll((items) => items.map((li) => li.dataset.image));
  const [first, second] = await order();
  await images.nth(0).locator('img').evaluate((img) => img.decode());
  assert.ok(await images.nth(0).locator('img').evaluate((img) => img.naturalWidth > 0), 'the image is shown');
  await images.nth(1).locator('button[aria-label="Move up"]').click();
  await page.waitForURL(/#images$/);
  assert.deepEqual(await order(), [second, first]);
  await shot(page, '08b-product-images');
  await images.nth(1).locator('button', { hasText: 'Delete' }).click();
  await page.waitForURL(/#images$/);
  assert.deepEqual(await order(), [second]);

  step('a phone-width page has no horizontal scroll outside its tables');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${config.base}/console/products?q=${encodeURIComponent(config.search)}`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `page wider than the phone by ${overflow}px`);
  await shot(page, '09-products-phone');
  await page.setViewportSize({ width: 1280, height: 900 });

  step('admin: add a user (a short password refused beside its field)');
  await page.click('nav >> text=Users & keys');
  await page.waitForURL(`${config.base}/console/admin`);
  await page.fill('#email', 'cata@example.com');
  await page.fill('#display_name', 'Cata');
  await page.fill('#password', 'short');
  await page.selectOption('#role', 'catalog_manager');
  await page.click('#new-user button[type=submit]');
  await page.locator('#password-error').waitFor();
  assert.equal(await page.inputValue('#email'), 'cata@example.com', 'what was typed is kept');
  await page.fill('#password', 'a long enough password');
  await page.click('#new-user button[type=submit]');
  await page.locator('#user-table td', { hasText: 'cata@example.com' }).waitFor();

  step('a role with chosen permissions');
  await page.fill('#role-name', 'catalog_reader');
  await page.fill('#role-description', 'reads the catalog');
  await page.check('#permission-catalog\\:read');
  await page.click('#new-role button[type=submit]');
  await page.waitForURL(/#roles$/);
  assert.match(await page.locator('section[aria-labelledby=roles] table').innerText(), /catalog_reader\s+reads the catalog\s+catalog:read/);

  step('an API key: its secret shown once, working, then revoked');
  await page.selectOption('#key-user', { label: 'cata@example.com' });
  await page.fill('#name', 'feed-reader');
  await page.check('#scope-catalog\\:read');
  await page.click('#new-key button[type=submit]');
  const secret = await page.locator('#new-secret code').innerText();
  const asKey = { headers: { Authorization: `Bearer ${secret}` } };
  assert.equal((await page.request.get(`${config.base}/api/v1/me`, asKey)).status(), 200);
  await shot(page, '10-admin');
  await page.goto(`${config.base}/console/admin`);
  assert.equal(await page.locator('#new-secret').count(), 0, 'the secret is not shown again');
  const keyRow = page.locator('#key-table tr', { hasText: 'feed-reader' });
  await keyRow.locator('button', { hasText: 'Revoke' }).click();
  await keyRow.locator('text=revoked').waitFor();
  assert.equal((await page.request.get(`${config.base}/api/v1/me`, asKey)).status(), 401);

  step('settings: change one, reset it');
  await page.click('nav >> text=Settings');
  await page.waitForURL(`${config.base}/console/settings`);
  const retention = page.locator('#setting-notifications\\.retention_days');
  await retention.locator('input').fill('45');
  await retention.locator('button', { hasText: 'Save' }).click();
  await retention.locator('button', { hasText: 'Reset' }).waitFor();
  assert.equal(await retention.locator('input').inputValue(), '45');
  await shot(page, '11-settings');
  await retention.locator('button', { hasText: 'Reset' }).click();
  await page.waitForURL(`${config.base}/console/settings`);
  assert.equal(await retention.locator('button', { hasText: 'Reset' }).count(), 0);

  step('exports: write a CSV feed, download it');
  await page.click('nav >> text=Exports');
  await page.waitForURL(`${config.base}/console/exports`);
  await page.selectOption('#format', 'csv');
  await page.click('#feed-form button[type=submit]');
  await page.waitForURL(/\/console\/exports\/[0-9a-f-]{36}$/);
  await page.locator('#download').waitFor({ timeout: 60000 });
  const feed = page.waitForEvent('download');
  await page.click('#download');
  const feedText = fs.readFileSync(await (await feed).path(), 'utf8');
  assert.ok(feedText.includes(config.product), 'the feed lists the catalog');
  await shot(page, '12-export');

  step('code2asin: nothing to review yet');
  await page.click('nav >> text=Code2ASIN');
  await page.waitForURL(`${config.base}/console/code2asin`);
  await page.locator('#nothing-to-review').waitFor();
  await shot(page, '13-code2asin');

  step('a mapping template: a broken definition refused beside it, then saved');
  await page.click('nav >> text=Imports');
  await page.waitForURL(`${config.base}/console/imports`);
  await page.fill('#template-name', 'Shop CSV');
  await page.fill('#definition', '{"columns": [');
  await page.click('#new-template button[type=submit]');
  await page.locator('#definition-error').waitFor();
  await page.fill('#definition', JSON.stringify({ columns: [{ column: 'SKU', to: 'supplier_sku' }, { column: 'Name', to: 'title' }], currency: 'EUR' }));
  await page.click('#new-template button[type=submit]');
  await page.waitForURL(/#templates$/);
  assert.match(await page.locator('section[aria-labelledby=templates] table').first().innerText(), /Shop CSV\s+1/);

  step('an import source: a bad schedule refused beside its field (nothing kept), then added with its schedule');
  await page.click('nav >> text=Imports');
  await page.waitForURL(`${config.base}/console/imports`);
  await page.fill('#new-source #name', 'Shop FTP');
  await page.selectOption('#source_kind', 'ftp');
  await page.fill('#source_settings', JSON.stringify({ host: '127.0.0.1', path: '/out' }));
  await page.fill('#username', 'shop');
  await page.fill('#new-source #password', 'ftp password');
  await page.selectOption('#source-preset', 'woocommerce');
  await page.fill('#cron', 'every hour');
  await page.click('#new-source button[type=submit]');
  await page.locator('#cron-error').waitFor();
  assert.equal(await page.locator('#source-table').count(), 0, 'the refused source was not kept');
  assert.equal(await page.inputValue('#new-source #name'), 'Shop FTP', 'what was typed is kept');
  await page.fill('#new-source #password', 'ftp password');
  await page.fill('#cron', '0 */2 * * *');
  await page.click('#new-source button[type=submit]');
  await page.waitForURL(/#sources$/);
  assert.match(await page.locator('#source-table').innerText(), /Shop FTP[\s\S]*ftp[\s\S]*0 \*\/2 \* \* \*/);
  await shot(page, '04-import-sources');

  step("a supplier's rules: prices first, never its content");
  await page.goto(`${config.base}/console/imports`);
  const rules = page.locator('details.supplier-rules[data-supplier=shop]');
  await rules.locator('summary').click();
  await rules.locator('input[name=rank_prices]').fill('1');
  await rules.locator('input[name=never_content]').check();
  await rules.locator('button', { hasText: 'Save rules' }).click();
  await page.waitForURL(/#supplier-rules$/);
  assert.match(await rules.locator('summary').innerText(), /unranked; prices rank 1; never changes content/);
  await shot(page, '14-supplier-rules');

  step('sign out: the session is gone');
  await page.click('.sign-out button');
  await page.waitForURL(/\/console\/login$/);
  assert.equal((await context.cookies()).filter((c) => c.name.startsWith('pm_')).length, 0, 'cookies cleared');
  await page.goto(`${config.base}/console`);
  assert.match(page.url(), /\/console\/login\?next=%2Fconsole$/);

  assert.deepEqual(problems, [], 'no script error on any page');
  step('all steps passed');
} catch (error) {
  // What the pages showed when it failed: a screenshot each, and the messages on them.
  for (const [index, open] of browser.contexts().flatMap((c) => c.pages()).entries()) {
    await shot(open, `failure-${index}`).catch(() => {});
    const messages = await open.locator('.problem, .field-error').allInnerTexts().catch(() => []);
    console.log(`console e2e: page ${index} at ${open.url()} showed: ${JSON.stringify(messages)}`);
  }
  throw error;
} finally {
  await browser.close();
}
