// docs.mjs: the API reference pages render this API's OpenAPI document
// offline: /api/docs/ (Swagger UI) and /api/redoc/ (Redoc) load only files
// of this server (any request to another host fails the scenario), under
// the module's CSP for these pages, with no console error. Swagger UI's
// "Try it out" calls the API at the right URL under the mount (the
// document's relative server URL).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { args, check, log, run, shot } from './lib.mjs';

const { base, outdir } = args();
const here = path.dirname(fileURLToPath(import.meta.url));
const doc = JSON.parse(readFileSync(path.join(here, '..', '..', '..', 'docs', 'openapi.json'), 'utf8'));
const operations = Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0);

run('docs', async ({ browser, watch }) => {
    const W = watch('docs');
    const ctx = await W.context(browser, { viewport: { width: 1280, height: 900 }, isMobile: false,
                                           hasTouch: false, deviceScaleFactor: 1 });
    const page = await ctx.newPage();

    /* ------------------------------------------------ Swagger UI */
    const res = await page.goto(`${base}/api/docs/`);
    check(res.status() === 200, `/api/docs/ answered ${res.status()}`);
    const csp = res.headers()['content-security-policy'] || '';
    log('CSP of /api/docs/:', csp);
    check(/script-src 'self'(;|$)/.test(csp), 'docs: scripts only from this server');
    await page.locator('body[data-loaded="true"]').waitFor();
    await page.locator('.swagger-ui .opblock').first().waitFor();
    const blocks = await page.locator('.swagger-ui .opblock').count();
    check(blocks === operations, `Swagger UI shows ${blocks} operations, the document has ${operations}`);
    check((await page.locator('.swagger-ui .info .title').textContent()).includes(doc.info.title), 'title');
    await shot(page, outdir, '01-swagger', false);

    /* Try it out: GET /api/health/ under the mount */
    const op = page.locator('#operations-service-health');
    await op.locator('.opblock-summary').click();
    await op.locator('button.try-out__btn').click();
    const [req] = await Promise.all([
        page.waitForRequest((r) => r.url().includes('/api/health/')),
        op.locator('button.execute').click(),
    ]);
    check(req.url() === `${base}/api/health/`, `Try it out called ${req.url()}, expected ${base}/api/health/`);
    await op.locator('.live-responses-table .response-col_status', { hasText: '200' }).waitFor();
    log('Try it out: GET', req.url(), '-> 200');
    await shot(page, outdir, '02-swagger-try-it-out', false);

    /* ------------------------------------------------ Redoc */
    const rres = await page.goto(`${base}/api/redoc/`);
    check(rres.status() === 200, `/api/redoc/ answered ${rres.status()}`);
    await page.locator('body[data-loaded="true"]').waitFor();
    await page.locator('#redoc h2', { hasText: 'Room WebSocket (specs 001 and 004)' }).waitFor({ timeout: 30000 });
    const headings = (await page.locator('#redoc h2').allTextContents()).map((t) => t.trim());
    for (const p of Object.values(doc.paths)) {
        for (const o of Object.values(p)) {
            check(headings.includes(o.summary), `Redoc shows the operation "${o.summary}"`);
        }
    }
    log(`Redoc: ${operations} operations shown`);
    /* the search index runs in a blob: worker (CSP worker-src) */
    await page.fill('#redoc input[placeholder="Search..."]', 'refresh');
    await page.locator('#redoc [data-role="search:results"] li, #redoc li[role="menuitem"]')
        .filter({ hasText: 'Rotate a refresh token' }).first().waitFor();
    log('Redoc search works');
    await shot(page, outdir, '03-redoc', false);

    /* the schema itself */
    const sres = await page.goto(`${base}/api/schema/`);
    check(sres.status() === 200 && /json/.test(sres.headers()['content-type'] || ''), 'schema is JSON');
    check(JSON.stringify(await sres.json()) === JSON.stringify(doc), '/api/schema/ serves docs/openapi.json');

    for (const p of ctx.pages()) {
        const v = await W.cspViolations(p).catch(() => []);
        check(v.length === 0, `CSP violations: ${v.join('; ')}`);
    }
    await ctx.close();

    /* both at phone width too */
    const P = watch('docs-phone');
    const pctx = await P.context(browser);
    const pp = await pctx.newPage();
    await pp.goto(`${base}/api/docs/`);
    await pp.locator('.swagger-ui .opblock').first().waitFor();
    await shot(pp, outdir, '04-swagger-phone', false);
    await pp.goto(`${base}/api/redoc/`);
    await pp.locator('body[data-loaded="true"]').waitFor();
    await pp.locator('#redoc h2').first().waitFor();
    await shot(pp, outdir, '05-redoc-phone', false);
    await pctx.close();
});
