/* sticker.js: the page of a scanned sticker, <mount>/q/<token>/.
 *
 *   GET <mount>/q/<token>/ (Accept: application/json)
 *     registered: false -> the registration form (POST /api/user/register/
 *                          with user_id = token), then the inbox, logged in
 *     registered: true  -> GET <mount>/user/<token>/: 200 the owner's card,
 *                          404 a hidden profile (only the button)
 *   "Message the owner" -> optional name -> POST /api/chat/start/ -> chat
 *
 * The visitor's room (room_id, visitor_token, ws_path) is kept in
 * localStorage per sticker, so a reload or a lost connection resumes the
 * same conversation.
 */
import {
    $, ApiError, apiCall, busy, clearFormErrors, contactLinks, el, forget,
    isUuid, load, mountBase, save, sessionKey, setText, showApiError,
    showFormErrors, showOnly, storageKey,
} from './common.js';
import { ChatView } from './chat.js';

const base = mountBase();
const match = window.location.pathname.match(/\/q\/([^/]+)\/?$/);
const token = match ? decodeURIComponent(match[1]) : null;

const views = ['register-view', 'card-view', 'start-view', 'chat-view'].map($);
const status = $('status');
const alertBox = $('alert');

let sticker = null;         /* {token, registered, ...} */
let profile = null;         /* the public card, or null when hidden */
let chat = null;            /* the ChatView */

function roomKey() {
    return storageKey(base, 'visitor:' + sticker.token.toLowerCase());
}

function fail(text) {
    setText(status, '');
    showOnly(views, null);
    setText(alertBox, text);
    alertBox.focus();
}

function view(id) {
    setText(status, '');
    setText(alertBox, '');
    showOnly(views, $(id));
}

/* ------------------------------------------------------------ registration */

const OPTIONAL = ['full_name', 'car_model', 'car_plate_number', 'telegram',
                  'instagram', 'whatsapp', 'phone_number_2', 'email'];

function showRegister() {
    document.title = 'Register your sticker – CarInfo';
    view('register-view');
    $('register-form').elements.namedItem('phone_number').focus();
}

async function register(ev) {
    ev.preventDefault();
    const form = ev.currentTarget;
    clearFormErrors(form);
    const f = form.elements;
    const errors = {};
    const phone = f.namedItem('phone_number').value.trim();
    const password = f.namedItem('password').value;
    if (!phone) {
        errors.phone_number = ['Enter your phone number.'];
    }
    if (password.length < 8) {
        errors.password = ['The password must have at least 8 characters.'];
    }
    if (password !== f.namedItem('password2').value) {
        errors.password2 = ['The two passwords differ.'];
    }
    if (Object.keys(errors).length) {
        showFormErrors(form, errors);
        return;
    }
    const body = {
        user_id: sticker.token,
        phone_number: phone,
        password,
        is_profile_public: f.namedItem('is_profile_public').checked,
    };
    for (const name of OPTIONAL) {
        const v = f.namedItem(name).value.trim();
        if (v) {
            body[name] = v;
        }
    }
    try {
        const { data } = await busy(form, apiCall(base, 'POST', '/api/user/register/', { body }));
        save(sessionKey(base), { access: data.tokens.access, refresh: data.tokens.refresh });
        setText(status, 'Registered. Opening your inbox…');
        window.location.assign(base + '/inbox/');
    } catch (e) {
        if (e instanceof ApiError && e.data && e.data.user_id) {
            /* registered meanwhile (or already): the owner logs in */
            showFormErrors(form, { user_id: e.data.user_id });
            const link = el('a', { href: base + '/inbox/', text: 'Log in to your inbox' });
            form.querySelector('.form-error').append(' ', link);
            return;
        }
        showApiError(form, e);
    }
}

/* ------------------------------------------------------------ card */

function fact(list, label, value) {
    if (typeof value === 'string' && value.trim()) {
        list.append(el('dt', { text: label }), el('dd', { text: value.trim() }));
    }
}

function renderCard() {
    const title = $('card-title');
    const facts = $('card-facts');
    const contacts = $('card-contacts');
    facts.replaceChildren();
    contacts.replaceChildren();
    if (profile) {
        const name = (profile.full_name || '').trim();
        title.textContent = name || 'The car’s owner';
        fact(facts, 'Car', profile.car_model);
        fact(facts, 'Plate', profile.car_plate_number);
        for (const c of contactLinks(profile)) {
            const value = c.href
                ? el('a', { href: c.href, text: c.text, rel: 'noopener noreferrer nofollow', target: '_blank' })
                : el('span', { text: c.text });
            contacts.append(el('li', { className: 'contact contact-' + c.kind },
                               el('span', { className: 'contact-label', text: c.label + ': ' }), value));
        }
        document.title = (name || 'Car owner') + ' – CarInfo';
    } else {
        title.textContent = 'Contact the car’s owner';
        document.title = 'Contact the car’s owner – CarInfo';
    }
    facts.hidden = !facts.childElementCount;
    contacts.hidden = !contacts.childElementCount;
    $('card-private').hidden = Boolean(profile);
    view('card-view');
}

/* ------------------------------------------------------------ chat */

function showStart() {
    view('start-view');
    $('start-form').elements.namedItem('visitor_name').focus();
}

async function startChat(ev) {
    ev.preventDefault();
    const form = ev.currentTarget;
    clearFormErrors(form);
    const name = form.elements.namedItem('visitor_name').value.trim();
    const body = { user_id: sticker.token };
    if (name) {
        body.visitor_name = name;
    }
    try {
        const { data } = await busy(form, apiCall(base, 'POST', '/api/chat/start/', { body }));
        const room = {
            room_id: data.room_id, visitor_token: data.visitor_token,
            ws_path: data.ws_path, visitor_name: name,
        };
        save(roomKey(), room);
        openChat(room, true);
    } catch (e) {
        showApiError(form, e);
    }
}

function openChat(room, fresh, closed = false) {
    if (chat) {
        chat.destroy();
    }
    const ownerName = profile && (profile.full_name || '').trim();
    $('chat-title').textContent = ownerName ? 'Chat with ' + ownerName : 'Chat with the car’s owner';
    $('chat-ended').hidden = true;
    view('chat-view');
    const roomPath = '/api/chat/rooms/' + encodeURIComponent(room.room_id);
    chat = new ChatView($('chat'), {
        role: 'visitor',
        wsPath: room.ws_path,
        names: { mine: 'You', theirs: ownerName || 'Owner' },
        closedText: 'The owner closed this chat. You can read it, but not write any more.',
        fetchHistory: async (since) => (await apiCall(base, 'GET', roomPath + '/messages/', {
            query: { visitor: room.visitor_token, since: since || undefined },
        })).data,
        socketQuery: async () => ({ visitor: room.visitor_token }),
        onClosedChange: (isClosed) => {
            $('chat-ended').hidden = !isClosed;
        },
        onGone: () => {
            /* closed for good (blocked, or deleted): start afresh */
            forget(roomKey());
            chat = null;
            setText(alertBox, 'This conversation is no longer available.');
            showOnly(views, $('card-view'));
        },
    });
    if (closed) {
        chat.setClosed(true);
    }
    chat.start().then(() => {
        if (fresh) {
            chat.focus();
        }
    });
}

/* A stored room that still opens, with its state; null otherwise. */
async function storedRoom() {
    const room = load(roomKey());
    if (!room || !isUuid(room.room_id) || typeof room.visitor_token !== 'string'
        || typeof room.ws_path !== 'string') {
        return null;
    }
    try {
        const { data } = await apiCall(base, 'GET', '/api/chat/rooms/' + encodeURIComponent(room.room_id) + '/', {
            query: { visitor: room.visitor_token },
        });
        return { room, state: data };
    } catch (e) {
        if (e instanceof ApiError && (e.status === 404 || e.status === 401)) {
            forget(roomKey());
            return null;
        }
        throw e;
    }
}

/* ------------------------------------------------------------ start-up */

async function main() {
    if (!token || !isUuid(token)) {
        fail('This is not the address of a CarInfo sticker.');
        return;
    }
    $('register-form').addEventListener('submit', register);
    $('start-form').addEventListener('submit', startChat);
    $('message-owner').addEventListener('click', showStart);
    $('start-cancel').addEventListener('click', () => {
        renderCard();
        $('message-owner').focus();
    });
    $('chat-new').addEventListener('click', () => {
        if (chat) {
            chat.destroy();
            chat = null;
        }
        forget(roomKey());
        showStart();
    });
    try {
        sticker = (await apiCall(base, 'GET', '/q/' + encodeURIComponent(token) + '/')).data;
    } catch (e) {
        fail(e instanceof ApiError && e.status === 404
            ? 'This sticker is unknown. Check the address, or scan the sticker again.'
            : e.message);
        return;
    }
    if (!sticker.registered) {
        showRegister();
        return;
    }
    try {
        const [card, resumed] = await Promise.all([
            apiCall(base, 'GET', '/user/' + encodeURIComponent(sticker.token) + '/')
                .then((r) => r.data)
                .catch((e) => {
                    if (e instanceof ApiError && e.status === 404) {
                        return null;        /* a hidden profile */
                    }
                    throw e;
                }),
            storedRoom(),
        ]);
        profile = card;
        if (resumed) {
            openChat(resumed.room, false, !resumed.state.is_active);
        } else {
            renderCard();
        }
    } catch (e) {
        fail(e.message);
    }
}

main();
