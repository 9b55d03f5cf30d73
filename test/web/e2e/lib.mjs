// lib.mjs: what the browser scenarios share.
//
// A scenario is `node e2e/<name>.mjs <base-url> <outdir>`; <base-url> is the
// mount (http://127.0.0.1:PORT or http://127.0.0.1:PORT/back), <outdir>
// receives the screenshots. Test data (stickers, owners) comes as JSON in
// the environment variable CARINFO_E2E. The scenario prints what it does,
// then "E2E OK <name>" and exits 0, or prints the failure and exits 1.
//
// Browser: Debian's chromium (CHROMIUM, default /usr/bin/chromium) driven
// by playwright-core; no browser is downloaded. Every context is watched:
// a console error, an uncaught exception, a CSP violation, a failed
// request, an HTTP error response or a request to a host other than the
// loopback fails the scenario, unless the scenario declared that exact
// response (Watch.allow) beforehand.
import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export const PHONE = { width: 390, height: 844 };
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const require = createRequire(import.meta.url);

export function args() {
    const [base, outdir] = process.argv.slice(2);
    if (!base || !outdir) {
        console.error('usage: node <scenario>.mjs <base-url> <outdir>');
        process.exit(2);
    }
    mkdirSync(outdir, { recursive: true });
    const data = process.env.CARINFO_E2E ? JSON.parse(process.env.CARINFO_E2E) : {};
    return { base: base.replace(/\/+$/, ''), outdir, data };
}

export function log(...parts) {
    console.log(`[${new Date().toISOString().slice(11, 23)}]`, ...parts);
}

export function check(cond, message) {
    if (!cond) {
        throw new Error('check failed: ' + message);
    }
}

export async function launch() {
    // Playwright starts the browser with a fresh temporary --user-data-dir
    // of its own (and --headless); the rest are the flags of a quiet,
    // offline, reproducible browser.
    return chromium.launch({
        executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
        headless: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
               '--no-first-run', '--disable-background-networking',
               '--disable-component-update', '--disable-sync',
               '--disable-dev-shm-usage'],
        timeout: 30000,
    });
}

/* Watches one browser context (all its pages). */
export class Watch {
    constructor(name) {
        this.name = name;
        this.problems = [];
        this.allowed = [];          /* {re, status, used} */
        this.aborting = 0;          /* navigations that may cancel fetches */
        this.sockets = [];
        this.offline = false;       /* set while the test cuts the network */
    }

    /* Declares an expected HTTP error response: a URL regex and status. */
    allow(re, status) {
        const a = { re, status, used: 0 };
        this.allowed.push(a);
        return a;
    }

    isAllowed(url, status) {
        const a = this.allowed.find((x) => x.re.test(url) && x.status === status);
        if (a) {
            a.used += 1;
        }
        return Boolean(a);
    }

    problem(text) {
        this.problems.push(text);
        log(`${this.name}: PROBLEM ${text}`);
    }

    async context(browser, options = {}) {
        const ctx = await browser.newContext(Object.assign({
            viewport: PHONE,
            deviceScaleFactor: 2,
            isMobile: true,
            hasTouch: true,
            locale: 'en-US',
            timezoneId: 'Asia/Tashkent',
            serviceWorkers: 'block',
        }, options));
        ctx.setDefaultTimeout(15000);
        await ctx.route('**/*', (route) => {
            const url = new URL(route.request().url());
            if (!LOOPBACK.has(url.hostname)) {
                this.problem(`request to another host: ${route.request().method()} ${url.href}`);
                return route.abort('blockedbyclient');
            }
            return route.continue();
        });
        await ctx.addInitScript(() => {
            window.__csp = [];
            document.addEventListener('securitypolicyviolation', (e) => {
                window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
            });
        });
        ctx.on('page', (page) => this.page(page));
        return ctx;
    }

    page(page) {
        page.on('console', (msg) => {
            if (msg.type() !== 'error') {
                return;
            }
            const text = msg.text();
            const loc = msg.location() || {};
            if (this.offline && /ERR_INTERNET_DISCONNECTED|WebSocket connection to .* failed/.test(text)) {
                return;     /* the network is cut on purpose */
            }
            const m = text.match(/status of (\d{3})/);
            if (m && loc.url && this.isAllowed(loc.url, Number(m[1]))) {
                return;
            }
            this.problem(`console error: ${text} (${loc.url || '?'}:${loc.lineNumber || 0})`);
        });
        page.on('pageerror', (err) => this.problem(`uncaught exception: ${err.message}`));
        page.on('requestfailed', (req) => {
            const failure = req.failure() ? req.failure().errorText : 'failed';
            if (failure.includes('ERR_ABORTED') && this.aborting > 0) {
                return;     /* a fetch cancelled by our own navigation */
            }
            if (this.offline && failure.includes('ERR_INTERNET_DISCONNECTED')) {
                return;
            }
            if (failure.includes('ERR_BLOCKED_BY_CLIENT')) {
                return;     /* reported by the route handler */
            }
            this.problem(`request failed: ${req.method()} ${req.url()}: ${failure}`);
        });
        page.on('response', (res) => {
            if (res.status() >= 400 && !this.isAllowed(res.url(), res.status())) {
                this.problem(`HTTP ${res.status()} for ${res.request().method()} ${res.url()}`);
            }
        });
        page.on('websocket', (ws) => {
            this.sockets.push(ws);
            ws.on('socketerror', (e) => this.problem(`websocket error ${ws.url()}: ${e}`));
        });
    }

    /* Runs a navigation (reload, goto) during which cancelled fetches are
     * expected. */
    async navigating(fn) {
        this.aborting += 1;
        try {
            return await fn();
        } finally {
            /* late cancellations arrive after the load event */
            setTimeout(() => { this.aborting -= 1; }, 1500);
        }
    }

    async cspViolations(page) {
        return page.evaluate(() => window.__csp || []);
    }
}

/* ------------------------------------------------------------ checks */

/* Fails on axe-core violations of WCAG 2.1 A/AA (labels, contrast,
 * names, ...). axe runs through the DevTools protocol, which the page's
 * CSP does not restrict. */
let axeSource = null;
export async function checkA11y(page, label) {
    if (!axeSource) {
        axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
    }
    if (!(await page.evaluate(() => Boolean(window.axe)))) {
        /* a string is evaluated by the DevTools protocol, outside CSP */
        await page.evaluate(axeSource + '\n;0');
    }
    const result = await page.evaluate(async () => {
        const r = await window.axe.run(document, {
            runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
            resultTypes: ['violations'],
        });
        return r.violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ') + ': ' + n.failureSummary),
        }));
    });
    if (result.length) {
        throw new Error(`accessibility (${label}): ` + JSON.stringify(result, null, 1));
    }
    log(`a11y ok: ${label}`);
}

export async function shot(page, outdir, name, fullPage = true) {
    const file = path.join(outdir, name + '.png');
    await page.screenshot({ path: file, fullPage });
    log(`screenshot ${file}`);
    return file;
}

/* Headers of the page's main document. */
export async function checkPageHeaders(response, label) {
    check(response, `${label}: no response`);
    const h = response.headers();
    const csp = h['content-security-policy'] || '';
    check(/script-src 'self'(;|$)/.test(csp), `${label}: CSP without script-src 'self' only: ${csp}`);
    check(!/unsafe-(inline|eval)/.test(csp.split(';').find((d) => d.trim().startsWith('script-src')) || ''),
          `${label}: script-src allows inline or eval: ${csp}`);
    check(/(text\/html)/.test(h['content-type'] || ''), `${label}: content type ${h['content-type']}`);
}

/* Runs a scenario body with a browser; prints E2E OK or the failure. */
export async function run(name, body) {
    const browser = await launch();
    const watches = [];
    const watch = (label) => {
        const w = new Watch(label);
        watches.push(w);
        return w;
    };
    let failed = null;
    try {
        await body({ browser, watch });
    } catch (e) {
        failed = e;
        /* what every open page showed when it failed */
        const outdir = process.argv[3];
        let n = 0;
        for (const ctx of browser.contexts()) {
            for (const page of ctx.pages()) {
                n += 1;
                await page.screenshot({ path: path.join(outdir, `failure-${n}.png`), fullPage: true })
                    .then(() => log(`failure screenshot ${path.join(outdir, `failure-${n}.png`)} (${page.url()})`))
                    .catch(() => {});
            }
        }
    }
    /* let late console messages and responses arrive */
    await new Promise((r) => setTimeout(r, 300));
    await browser.close().catch(() => {});
    const problems = watches.flatMap((w) => w.problems.map((p) => `${w.name}: ${p}`));
    if (failed) {
        console.log(`E2E FAILED ${name}: ${failed.stack || failed}`);
    }
    if (problems.length) {
        console.log(`E2E FAILED ${name}: ${problems.length} browser problem(s):\n  ` + problems.join('\n  '));
    }
    if (failed || problems.length) {
        process.exit(1);
    }
    console.log(`E2E OK ${name}`);
    process.exit(0);
}
