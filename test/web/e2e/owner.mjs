// owner.mjs: the owner's actions in the inbox, and what the visitor's page
// does about them.
//
//  - a stale access token: the first call answers 401, the page refreshes
//    the pair once (rotation: the new refresh token is stored) and goes on;
//  - the visitor loses the connection: what they type meanwhile waits
//    ("Waiting for the connection…") and is sent after the automatic
//    reconnection, which fetches what was missed (?since=);
//  - close: the visitor's next message is refused and the page says the
//    chat is closed; reopen: after a reload the visitor writes again;
//  - block: the visitor's stored room no longer opens; the page forgets it
//    and shows the sticker's card again.
// Data (CARINFO_E2E): {owner: {token, phone, password, user: {id}}}.
import {
    args, check, checkA11y, log, run, shot,
} from './lib.mjs';

const { base, outdir, data } = args();
const owner = data.owner;
const mount = new URL(base + '/').pathname.replace(/\/$/, '') || '/';

function b64url(obj) {
    return Buffer.from(JSON.stringify(obj)).toString('base64url');
}

async function storedOwner(page) {
    return page.evaluate(() => Object.entries(localStorage)
        .filter(([k]) => k.endsWith(':owner')).map(([, v]) => JSON.parse(v))[0] || null);
}

async function visitorState(page) {
    return page.evaluate(() => Object.entries(localStorage)
        .filter(([k]) => k.includes(':visitor:')).map(([, v]) => JSON.parse(v))[0] || null);
}

run('owner', async ({ browser, watch }) => {
    /* ------------------------------------------------ a visitor writes */
    const V = watch('visitor');
    const vctx = await V.context(browser);
    /* The room sockets pass through the test, so that it can cut them
     * (offline emulation alone leaves open sockets open). */
    let cut = false;
    const sockets = new Set();
    await vctx.routeWebSocket((url) => !cut && url.pathname.includes('/ws/chat/'), (ws) => {
        ws.connectToServer();
        sockets.add(ws);
    });
    const pv = await vctx.newPage();
    await pv.goto(`${base}/q/${owner.token}/`);
    await pv.locator('#message-owner').click();
    await pv.fill('#start-form-visitor_name', 'Bekzod');
    await pv.locator('#start-form button[type=submit]').click();
    await pv.locator('#chat[data-state="live"]').waitFor();
    const room = await visitorState(pv);
    await pv.locator('#chat textarea').fill('Is this your car?');
    await pv.keyboard.press('Enter');
    await pv.locator('#chat li.msg.mine .msg-state', { hasText: 'Sent' }).waitFor();

    /* ------------------------------------------------ stale access token */
    const login = await fetch(`${base}/api/login/`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ phone_number: owner.phone, password: owner.password }),
    });
    check(login.status === 200, `login answered ${login.status}`);
    const tokens = (await login.json()).tokens;
    const forged = [b64url({ alg: 'HS256', typ: 'JWT' }),
                    b64url({ token_type: 'access', exp: Math.floor(Date.now() / 1000) + 3600,
                             iat: Math.floor(Date.now() / 1000), jti: 'forged', user_id: owner.user.id }),
                    'bm90LXRoZS1zaWduYXR1cmU'].join('.');
    const O = watch('owner');
    const octx = await O.context(browser);
    const po = await octx.newPage();
    await po.goto(`${base}/inbox/`);
    await po.locator('#login-view').waitFor();
    await po.evaluate(([key, value]) => localStorage.setItem(key, value),
                      [`carinfo:v1:${mount}:owner`, JSON.stringify({ access: forged, refresh: tokens.refresh })]);
    O.allow(/\/api\/chat\/rooms\/$/, 401);
    const [refreshRes] = await Promise.all([
        po.waitForResponse((r) => r.url().endsWith('/api/token/refresh/')),
        O.navigating(() => po.reload()),
    ]);
    check(refreshRes.status() === 200, `refresh answered ${refreshRes.status()}`);
    const item = po.locator(`#rooms a.room[data-id="${room.room_id}"]`);
    await item.waitFor();
    const now = await storedOwner(po);
    check(now.refresh !== tokens.refresh && now.access !== forged, 'the rotated pair is stored');
    log('401 -> refresh -> rotated pair stored');

    /* ------------------------------------------------ the visitor goes offline */
    await item.click();
    await po.locator('#room-chat[data-state="live"]').waitFor();
    V.offline = true;
    cut = true;
    await vctx.setOffline(true);
    for (const ws of sockets) {
        await ws.close({ code: 1001, reason: 'test: network cut' }).catch(() => {});
    }
    sockets.clear();
    await pv.locator('#chat .chat-status', { hasText: 'Connection lost' }).waitFor();
    await pv.locator('#chat textarea').fill('Typed while offline');
    await pv.keyboard.press('Enter');
    await pv.locator('#chat li.msg.pending .msg-state', { hasText: 'Waiting for the connection' }).waitFor();
    await shot(pv, outdir, '01-visitor-offline');
    cut = false;
    await vctx.setOffline(false);
    await pv.locator('#chat li.msg.mine', { hasText: 'Typed while offline' })
        .locator('.msg-state', { hasText: 'Sent' }).waitFor();
    V.offline = false;
    await po.locator('#room-chat li.msg.theirs', { hasText: 'Typed while offline' }).waitFor();
    log('queued while offline, sent after the reconnection');

    /* ------------------------------------------------ close */
    await po.locator('#room-toggle').click();
    await po.locator('#room-state', { hasText: 'Closed' }).waitFor();
    check(await po.locator('#room-toggle').textContent() === 'Reopen chat', 'the button reopens');
    await item.locator('.tag', { hasText: 'Closed' }).waitFor({ state: 'attached' });
    await pv.locator('#chat textarea').fill('Hello?');
    await pv.keyboard.press('Enter');
    await pv.locator('#chat li.msg.failed', { hasText: 'Hello?' }).waitFor();
    await pv.locator('#chat .chat-closed:not([hidden])').waitFor();
    check(await pv.locator('#chat textarea').isDisabled(), 'the message box is disabled');
    check(await pv.locator('#chat-new').isVisible(), 'a new conversation can be started');
    await checkA11y(pv, 'visitor closed chat');
    await shot(pv, outdir, '02-visitor-closed');
    /* the owner may still write in a closed room */
    await checkA11y(po, 'owner closed room');
    await shot(po, outdir, '03-owner-closed');

    /* ------------------------------------------------ reopen */
    await po.locator('#room-toggle').click();
    await po.locator('#room-state', { hasText: 'Open' }).waitFor();
    await V.navigating(() => pv.reload());
    await pv.locator('#chat[data-state="live"]').waitFor();
    check(!(await pv.locator('#chat textarea').isDisabled()), 'writable again after reopening');
    await pv.locator('#chat textarea').fill('Thanks for reopening');
    await pv.keyboard.press('Enter');
    await po.locator('#room-chat li.msg.theirs', { hasText: 'Thanks for reopening' }).waitFor();

    /* ------------------------------------------------ block */
    po.once('dialog', (d) => d.accept());
    await po.locator('#room-block').click();
    await po.locator('#room-state', { hasText: 'blocked' }).waitFor();
    check(await po.locator('#room-block').isDisabled() && await po.locator('#room-toggle').isDisabled(),
          'nothing left to do once blocked');
    await item.locator('.tag', { hasText: 'Blocked' }).waitFor({ state: 'attached' });
    await shot(po, outdir, '04-owner-blocked');
    const roomRe = new RegExp(`/api/chat/rooms/${room.room_id}/(messages/)?(\\?.*)?$`);
    V.allow(roomRe, 404);
    await V.navigating(() => pv.reload());
    await pv.locator('#card-view').waitFor();
    check(await visitorState(pv) === null, 'the blocked room is forgotten');
    await shot(pv, outdir, '05-visitor-after-block');

    await vctx.close();
    await octx.close();
});
