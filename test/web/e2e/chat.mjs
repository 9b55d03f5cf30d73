// chat.mjs: a visitor scans a registered, public sticker and chats with the
// owner, who answers from the web inbox in a second browser context.
//
//  - the sticker page shows the owner's card with checked contact links
//    (a hostile value is text, never a link);
//  - the visitor starts a chat with a name; the owner logs in (keyboard
//    only), sees the room with its unread count, opens it and answers;
//    each side sees the other's messages without a reload;
//  - messages with <script> and <img onerror> show as text on both sides;
//  - the visitor reloads: same room (localStorage), whole history, still
//    live; the owner's list shows a new unread message from polling.
// Data (CARINFO_E2E): {owner: {token, phone, password, full_name, car_model,
// car_plate_number}}.
import {
    args, check, checkA11y, checkPageHeaders, log, run, shot,
} from './lib.mjs';

const { base, outdir, data } = args();
const owner = data.owner;

const XSS_SCRIPT = '<script>window.__xss = 1</script>';
const XSS_IMG = '<img src=x onerror="window.__xss = 2">';

async function texts(page, selector) {
    return page.locator(selector).allTextContents();
}

async function visitorRoomKeys(page) {
    return page.evaluate(() => Object.keys(localStorage)
        .filter((k) => k.includes(':visitor:'))
        .map((k) => JSON.parse(localStorage.getItem(k))));
}

run('chat', async ({ browser, watch }) => {
    /* ------------------------------------------------ visitor: card */
    const V = watch('visitor');
    const ctxV = await V.context(browser);
    const pv = await ctxV.newPage();
    const res = await pv.goto(`${base}/q/${owner.token}/`);
    await checkPageHeaders(res, 'sticker page');
    await pv.locator('#card-view').waitFor();
    check(await pv.locator('#card-title').textContent() === owner.full_name, 'card title is the owner name');
    const facts = (await texts(pv, '#card-facts dd')).join('|');
    check(facts.includes(owner.car_model) && facts.includes(owner.car_plate_number), `facts: ${facts}`);
    const links = await pv.locator('#card-contacts a').evaluateAll(
        (as) => as.map((a) => ({ href: a.getAttribute('href'), text: a.textContent, rel: a.rel })));
    log('contact links', JSON.stringify(links));
    const hrefs = links.map((l) => l.href);
    check(hrefs.includes('https://t.me/aziz_k'), 'telegram link from a handle');
    check(hrefs.includes('https://wa.me/998901234567'), 'whatsapp link from a number');
    check(hrefs.includes('tel:+998901112233'), 'phone link from digits');
    check(hrefs.every((h) => /^(https:\/\/|tel:\+\d+$)/.test(h)), 'only https: and tel: links');
    check(links.every((l) => l.rel.includes('noopener')), 'external links have rel=noopener');
    const contactText = (await texts(pv, '#card-contacts li')).join('|');
    check(contactText.includes('javascript:alert(1)'), 'a hostile instagram value is shown as text');
    check(await pv.locator('#card-private').isHidden(), 'public card: no privacy note');
    await checkA11y(pv, 'sticker card');
    await shot(pv, outdir, '01-visitor-card');

    /* ------------------------------------------------ visitor: start */
    await pv.locator('#message-owner').focus();
    await pv.keyboard.press('Enter');
    await pv.locator('#start-view').waitFor();
    check(await pv.evaluate(() => document.activeElement.id) === 'start-form-visitor_name',
          'the name field has the focus');
    await pv.keyboard.type('Dilshod');
    await checkA11y(pv, 'start chat');
    await shot(pv, outdir, '02-visitor-start');
    await pv.keyboard.press('Enter');
    await pv.locator('#chat[data-state="live"]').waitFor();
    const [room] = await visitorRoomKeys(pv);
    check(room && room.room_id && room.visitor_token, 'the room is kept in localStorage');
    log('room', room.room_id);

    const hello = 'Salom! Your lights are on.';
    check(await pv.evaluate(() => document.activeElement.tagName) === 'TEXTAREA', 'the message box has the focus');
    await pv.keyboard.type(hello);
    await pv.keyboard.press('Enter');
    await pv.locator('#chat li.msg.mine', { hasText: hello }).locator('.msg-state', { hasText: 'Sent' }).waitFor();

    /* ------------------------------------------------ owner: login */
    const O = watch('owner');
    const ctxO = await O.context(browser);
    const po = await ctxO.newPage();
    const ires = await po.goto(`${base}/inbox/`);
    await checkPageHeaders(ires, 'inbox');
    await po.locator('#login-view').waitFor();
    await checkA11y(po, 'inbox login');
    await shot(po, outdir, '03-owner-login');
    check(await po.evaluate(() => document.activeElement.id) === 'login-form-phone_number',
          'the phone field has the focus');
    await po.keyboard.type(owner.phone);
    await po.keyboard.press('Tab');
    await po.keyboard.type(owner.password);
    await po.keyboard.press('Enter');
    const item = po.locator(`#rooms a.room[data-id="${room.room_id}"]`);
    await item.waitFor();
    check((await item.textContent()).includes('Dilshod'), 'the room shows the visitor name');
    await item.locator('.badge[data-unread="1"]').waitFor();
    check((await item.locator('.room-preview').textContent()).includes(hello), 'last message preview');
    await checkA11y(po, 'inbox rooms');
    await shot(po, outdir, '04-owner-rooms');

    /* ------------------------------------------------ owner: room, by keyboard */
    await item.focus();
    await po.keyboard.press('Enter');
    await po.locator('#room-chat[data-state="live"]').waitFor();
    await po.locator('#room-chat li.msg.theirs', { hasText: hello }).waitFor();
    check(await po.locator('#room-title').textContent() === 'Dilshod', 'room title');
    const reply = 'Thank you, I am coming!';
    await po.waitForFunction(() => document.activeElement
        && document.activeElement.matches('#room-chat textarea'));
    check(await item.locator('.badge').count() === 0, 'the open room shows no unread badge');
    await po.keyboard.type(reply);
    await po.keyboard.press('Enter');
    await po.locator('#room-chat li.msg.mine', { hasText: reply }).locator('.msg-state', { hasText: 'Sent' }).waitFor();
    /* the visitor sees it without a reload */
    await pv.locator('#chat li.msg.theirs', { hasText: reply }).waitFor();
    log('owner reply reached the visitor live');

    /* ------------------------------------------------ markup is text */
    for (const text of [XSS_SCRIPT, XSS_IMG]) {
        await pv.locator('#chat textarea').fill(text);
        await pv.keyboard.press('Enter');
        await po.locator('#room-chat li.msg.theirs .msg-text').filter({ hasText: text }).waitFor();
    }
    await po.locator('#room-chat textarea').fill('<b>bold?</b> & "quotes"');
    await po.keyboard.press('Enter');
    await pv.locator('#chat li.msg.theirs .msg-text', { hasText: '<b>bold?</b> & "quotes"' }).waitFor();
    for (const page of [pv, po]) {
        const chatSel = page === pv ? '#chat' : '#room-chat';
        const shown = await texts(page, `${chatSel} .msg-text`);
        check(shown.includes(XSS_SCRIPT) && shown.includes(XSS_IMG), 'markup shown verbatim as text');
        check(await page.locator(`${chatSel} img, ${chatSel} script, ${chatSel} b`).count() === 0,
              'no element was made from a message');
        check(await page.evaluate(() => window.__xss) === undefined, 'no message ran as script');
    }
    await checkA11y(po, 'inbox room');
    await shot(po, outdir, '05-owner-room');
    await checkA11y(pv, 'visitor chat');
    await shot(pv, outdir, '06-visitor-chat');

    /* ------------------------------------------------ visitor reloads */
    const before = await texts(pv, '#chat .msg-text');
    await V.navigating(() => pv.reload());
    await pv.locator('#chat[data-state="live"]').waitFor();
    check(await pv.locator('#card-view').isHidden(), 'a reload resumes the chat, not the card');
    const [again] = await visitorRoomKeys(pv);
    check(again.room_id === room.room_id, 'same room after the reload');
    const after = await texts(pv, '#chat .msg-text');
    check(JSON.stringify(after) === JSON.stringify(before),
          `same history after the reload: ${JSON.stringify(after)} vs ${JSON.stringify(before)}`);

    /* the owner goes back to the list (by keyboard): the room was read */
    await po.locator('#room-back').focus();
    await po.keyboard.press('Enter');
    await po.locator('#rooms-pane').waitFor();
    await po.waitForFunction((id) => document.activeElement
        && document.activeElement.dataset.id === id, room.room_id);
    await po.waitForResponse((r) => r.url().endsWith('/api/chat/rooms/') && r.status() === 200);
    await po.waitForTimeout(100);
    check(await item.locator('.badge').count() === 0, 'read messages are not unread after a poll');
    /* a new message shows as unread */
    const later = 'Still there after my reload';
    await pv.locator('#chat textarea').fill(later);
    await pv.keyboard.press('Enter');
    await pv.locator('#chat li.msg.mine', { hasText: later }).locator('.msg-state', { hasText: 'Sent' }).waitFor();
    await item.locator('.badge[data-unread="1"]').waitFor({ timeout: 20000 });
    check((await item.locator('.room-preview').textContent()).includes(later), 'preview updated by polling');
    /* and, opening it, reads it live in the same room */
    await item.click();
    await po.locator('#room-chat li.msg.theirs', { hasText: later }).waitFor();
    await po.locator('#room-chat textarea').fill('See you');
    await po.keyboard.press('Enter');
    await pv.locator('#chat li.msg.theirs', { hasText: 'See you' }).waitFor();
    await shot(pv, outdir, '07-visitor-after-reload');

    /* the inbox on a wide screen: list and room side by side */
    await po.setViewportSize({ width: 1280, height: 800 });
    await po.locator('#rooms-pane').waitFor();
    await checkA11y(po, 'inbox wide');
    await shot(po, outdir, '08-owner-wide', false);

    for (const [w, page] of [[V, pv], [O, po]]) {
        const csp = await w.cspViolations(page);
        check(csp.length === 0, `CSP violations: ${csp.join('; ')}`);
    }
    await ctxV.close();
    await ctxO.close();
});
