// register.mjs: the owner of a free sticker scans it and registers through
// the page (spec 004's form), lands in the inbox logged in, makes the
// profile private (a visitor then sees only the button), and logs out,
// which revokes the refresh token.
// Data (CARINFO_E2E): {token: a free sticker, phone: an unused number}.
import {
    args, check, checkA11y, checkPageHeaders, log, run, shot,
} from './lib.mjs';

const { base, outdir, data } = args();
const PASSWORD = 'Parking-2026';

async function fieldError(page, id) {
    const node = page.locator(`#${id}-error`);
    return (await node.isVisible()) ? (await node.textContent()).trim() : '';
}

run('register', async ({ browser, watch }) => {
    const O = watch('owner');
    const ctx = await O.context(browser);
    const page = await ctx.newPage();
    const res = await page.goto(`${base}/q/${data.token}/`);
    await checkPageHeaders(res, 'sticker page');
    await page.locator('#register-view').waitFor();
    check(await page.evaluate(() => document.activeElement.id) === 'register-form-phone_number',
          'the phone field has the focus');
    await checkA11y(page, 'register form');
    await shot(page, outdir, '01-register-form');

    /* checks in the page: nothing sent */
    await page.locator('#register-form button[type=submit]').click();
    check((await fieldError(page, 'register-form-phone_number')).length > 0, 'phone required');
    check((await fieldError(page, 'register-form-password')).length > 0, 'password too short');
    check(await page.locator('#register-form-phone_number').getAttribute('aria-invalid') === 'true',
          'aria-invalid on the phone field');
    check(await page.evaluate(() => document.activeElement.id) === 'register-form-phone_number',
          'focus on the first invalid field');
    await page.fill('#register-form-phone_number', '12345');
    await page.fill('#register-form-password', PASSWORD);
    await page.fill('#register-form-password2', PASSWORD + 'x');
    await page.locator('#register-form button[type=submit]').click();
    check((await fieldError(page, 'register-form-password2')).includes('differ'), 'passwords differ');

    /* the server's field errors (DRF's {"field": [...]}) */
    await page.fill('#register-form-password2', PASSWORD);
    O.allow(/\/api\/user\/register\/$/, 400);
    await page.locator('#register-form button[type=submit]').click();
    await page.locator('#register-form-phone_number-error:not([hidden])').waitFor();
    const phoneErr = await fieldError(page, 'register-form-phone_number');
    check(/valid phone/i.test(phoneErr), `server phone error shown: ${phoneErr}`);
    await checkA11y(page, 'register errors');
    await shot(page, outdir, '02-register-errors');

    /* a good registration */
    await page.fill('#register-form-phone_number', data.phone);
    await page.fill('#register-form-full_name', 'Malika');
    await page.fill('#register-form-car_model', 'Kia K5');
    await page.fill('#register-form-car_plate_number', '10 B 777 AA');
    await page.fill('#register-form-telegram', '@malika_k');
    check(await page.isChecked('#register-form-is_profile_public'), 'public by default');
    await Promise.all([
        page.waitForURL(`${base}/inbox/`),
        page.locator('#register-form button[type=submit]').click(),
    ]);
    await page.locator('#inbox-view').waitFor();
    await page.locator('#rooms-empty').waitFor();
    const stored = await page.evaluate(() => Object.entries(localStorage)
        .filter(([k]) => k.endsWith(':owner')).map(([, v]) => JSON.parse(v)));
    check(stored.length === 1 && stored[0].access && stored[0].refresh, 'logged in: tokens stored');
    await checkA11y(page, 'new owner inbox');
    await shot(page, outdir, '03-new-owner-inbox');

    /* the sticker now shows the public card */
    const card = await ctx.newPage();
    await card.goto(`${base}/q/${data.token}/`);
    await card.locator('#card-view').waitFor();
    check(await card.locator('#card-title').textContent() === 'Malika', 'public card after registration');
    await card.close();

    /* profile: private */
    await page.locator('#nav-profile').click();
    await page.locator('#profile-view').waitFor();
    await page.locator('#profile-form[aria-busy]').waitFor({ state: 'detached' }).catch(() => {});
    await page.waitForFunction(() => document.getElementById('profile-form-full_name').value === 'Malika');
    check(await page.locator('#profile-phone').textContent() === data.phone, 'login phone shown');
    check(await page.isChecked('#profile-form-is_profile_public'), 'profile public');
    await page.locator('#profile-form-is_profile_public').press('Space');
    await page.fill('#profile-form-car_model', 'Kia K5 GT');
    await page.locator('#profile-form button[type=submit]').click();
    await page.locator('#profile-saved', { hasText: 'private' }).waitFor();
    await checkA11y(page, 'profile');
    await shot(page, outdir, '04-profile-private');

    /* a visitor sees nothing personal */
    const V = watch('visitor');
    const vctx = await V.context(browser);
    V.allow(new RegExp(`/user/${data.token}/$`), 404);
    const pv = await vctx.newPage();
    await pv.goto(`${base}/q/${data.token}/`);
    await pv.locator('#card-view').waitFor();
    check(await pv.locator('#card-private').isVisible(), 'hidden profile: the privacy note');
    check(await pv.locator('#card-facts').isHidden() && await pv.locator('#card-contacts').isHidden(),
          'hidden profile: no facts, no contacts');
    const body = await pv.locator('body').innerText();
    check(!/Malika|Kia|777|malika_k/.test(body), 'hidden profile: nothing personal on the page');
    check(await pv.locator('#message-owner').isVisible(), 'hidden profile: the button');
    await checkA11y(pv, 'hidden card');
    await shot(pv, outdir, '05-visitor-hidden-profile');
    await vctx.close();

    /* log out: the refresh token is revoked */
    const refresh = stored[0].refresh;
    const [logoutRes] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/api/logout/')),
        page.locator('#logout').click(),
    ]);
    check(logoutRes.status() === 204, `logout answered ${logoutRes.status()}`);
    await page.locator('#login-view').waitFor();
    check(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.endsWith(':owner')).length) === 0,
          'tokens removed');
    const r = await fetch(`${base}/api/token/refresh/`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ refresh }),
    });
    check(r.status === 401, `a revoked refresh token answers 401, got ${r.status}`);
    log('refresh after logout: 401');
    await shot(page, outdir, '06-logged-out');
    await ctx.close();
});
