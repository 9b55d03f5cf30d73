/* inbox.js: the owner's web inbox, <mount>/inbox/.
 *
 * Session: the access and refresh tokens of POST /api/login/ (or of the
 * registration on the sticker page) in localStorage. A call answered 401
 * refreshes the pair once (POST /api/token/refresh/, rotation: the new
 * refresh token replaces the old) and is repeated; when the refresh fails
 * the owner logs in again. Logging out revokes the login
 * (POST /api/logout/ {"refresh"}).
 *
 * Rooms: GET /api/chat/rooms/ every few seconds while the page is visible
 * (the relay has no inbox socket), updated in place. A room: its history
 * over REST and the live room socket (?token=<access>), closing/reopening
 * (PATCH), blocking its visitor (POST .../block/).
 *
 * Views by URL fragment: "" the list, #room/<id> a room, #profile.
 */
import {
    $, ApiError, apiCall, busy, clearFormErrors, el, forget, formatTime,
    isUuid, jwtSecondsLeft, load, mountBase, save, sessionKey, setText,
    showApiError, showFormErrors, showOnly,
} from './common.js';
import { ChatView } from './chat.js';

const POLL_MS = 4000;
const base = mountBase();
const KEY = sessionKey(base);

const views = ['login-view', 'inbox-view', 'profile-view'].map($);
const status = $('status');
const alertBox = $('alert');

let session = load(KEY);        /* {access, refresh} */
let refreshing = null;          /* the refresh in flight */
let rooms = new Map();          /* id -> room of the last poll */
let order = [];                 /* ids, most recent first */
let activeId = null;
let chat = null;
let pollTimer = null;
let markTimer = null;
let markPending = null;         /* the room a mark-read is waiting for */
let loadedOnce = false;
/* room id -> id of the newest message the owner has seen in it: a poll
 * answered before the read cursor moved must not show it as unread */
const seen = new Map();

/* ------------------------------------------------------------ session */

function validSession(s) {
    return s && typeof s.access === 'string' && typeof s.refresh === 'string';
}

function endSession(message) {
    session = null;
    forget(KEY);
    stopPolling();
    closeRoom();
    rooms = new Map();
    order = [];
    loadedOnce = false;
    $('rooms').replaceChildren();
    showLogin(message);
}

/* Rotates the token pair (one refresh at a time). */
function refreshTokens() {
    if (!refreshing) {
        const sent = session && session.refresh;
        refreshing = (async () => {
            if (!sent) {
                throw new ApiError(401, { detail: 'Not logged in.' });
            }
            try {
                const { data } = await apiCall(base, 'POST', '/api/token/refresh/', { body: { refresh: sent } });
                session = { access: data.access, refresh: data.refresh };
                save(KEY, session);
            } catch (e) {
                if (e instanceof ApiError && (e.status === 401 || e.status === 400)) {
                    endSession('Your session has ended. Please log in again.');
                }
                throw e;
            }
        })().finally(() => {
            refreshing = null;
        });
    }
    return refreshing;
}

/* An access token that will still be valid for a while. */
async function freshAccess() {
    if (!session) {
        throw new ApiError(401, { detail: 'Not logged in.' });
    }
    const left = jwtSecondsLeft(session.access);
    if (left !== null && left < 15) {
        await refreshTokens();
    }
    return session.access;
}

/* An API call as the owner: refresh and repeat once on 401. */
async function authed(method, path, options = {}) {
    const token = await freshAccess();
    try {
        return await apiCall(base, method, path, Object.assign({}, options, { token }));
    } catch (e) {
        if (!(e instanceof ApiError) || e.status !== 401 || !session) {
            throw e;
        }
    }
    await refreshTokens();
    return apiCall(base, method, path, Object.assign({}, options, { token: session.access }));
}

/* ------------------------------------------------------------ views */

function show(viewId) {
    showOnly(views, $(viewId));
    $('account-nav').hidden = !session;
    setText(status, '');
}

function showLogin(message) {
    document.title = 'Log in – CarInfo inbox';
    show('login-view');
    if (message) {
        setText(alertBox, message);
    }
    $('login-form').elements.namedItem('phone_number').focus();
}

async function login(ev) {
    ev.preventDefault();
    const form = ev.currentTarget;
    clearFormErrors(form);
    const phone = form.elements.namedItem('phone_number').value.trim();
    const password = form.elements.namedItem('password').value;
    const errors = {};
    if (!phone) {
        errors.phone_number = ['Enter your phone number.'];
    }
    if (!password) {
        errors.password = ['Enter your password.'];
    }
    if (Object.keys(errors).length) {
        showFormErrors(form, errors);
        return;
    }
    try {
        const { data } = await busy(form, apiCall(base, 'POST', '/api/login/', {
            body: { phone_number: phone, password },
        }));
        session = { access: data.tokens.access, refresh: data.tokens.refresh };
        save(KEY, session);
        form.reset();
        setText(alertBox, '');
        route();
        $('main').focus();
    } catch (e) {
        showApiError(form, e);
    }
}

async function logout() {
    const s = session;
    endSession(null);
    setText(status, 'You are logged out.');
    if (s) {
        try {
            await apiCall(base, 'POST', '/api/logout/', { body: { refresh: s.refresh } });
        } catch (e) {
            /* the tokens are gone from this browser either way */
        }
    }
}

/* ------------------------------------------------------------ rooms */

function roomName(room) {
    const n = (room.visitor_name || '').trim();
    return n || 'Visitor';
}

function roomStateText(room) {
    if (room.visitor_blocked) {
        return 'Visitor blocked: they can no longer read or write here.';
    }
    if (!room.is_active) {
        return 'Closed: the visitor can read but no longer write.';
    }
    return 'Open';
}

function roomItem(li, room) {
    let a = li.firstElementChild;
    if (!a) {
        a = el('a', { className: 'room' });
        li.append(a);
    }
    a.href = '#room/' + room.id;
    a.dataset.id = room.id;
    if (room.id === activeId) {
        a.setAttribute('aria-current', 'page');
    } else {
        a.removeAttribute('aria-current');
    }
    const last = room.last_message;
    const unread = room.id === activeId ? 0 : room.unread_count || 0;
    const preview = last ? (last.sender_type === 'owner' ? 'You: ' : '') + last.content : 'No messages yet';
    const when = last ? last.created_at : room.updated_at;
    const parts = [
        el('span', { className: 'room-name', text: roomName(room) }),
        el('time', { className: 'room-time', datetime: when, text: formatTime(when) }),
        el('span', { className: 'room-preview', text: preview }),
    ];
    const tags = el('span', { className: 'room-tags' });
    if (unread > 0) {
        tags.append(el('span', { className: 'badge', 'data-unread': unread },
                       String(unread), el('span', { className: 'sr-only', text: ' unread' })));
    }
    if (room.visitor_blocked) {
        tags.append(el('span', { className: 'tag', text: 'Blocked' }));
    } else if (!room.is_active) {
        tags.append(el('span', { className: 'tag', text: 'Closed' }));
    }
    parts.push(tags);
    a.classList.toggle('unread', unread > 0);
    a.replaceChildren(...parts);
}

function renderRooms() {
    const list = $('rooms');
    const existing = new Map([...list.children].map((li) => [li.dataset.id, li]));
    const focused = document.activeElement;
    let total = 0;
    order.forEach((id, i) => {
        const room = rooms.get(id);
        let li = existing.get(id);
        if (!li) {
            li = el('li', { 'data-id': id });
        }
        existing.delete(id);
        roomItem(li, room);
        if (list.children[i] !== li) {
            list.insertBefore(li, list.children[i] || null);
        }
        if (id !== activeId) {
            total += room.unread_count || 0;
        }
    });
    for (const li of existing.values()) {
        li.remove();
    }
    if (focused && focused !== document.activeElement && document.contains(focused)) {
        focused.focus();
    }
    $('rooms-empty').hidden = order.length > 0;
    if (session && !$('inbox-view').hidden) {
        document.title = (total ? `(${total}) ` : '') + 'Inbox – CarInfo';
    }
}

function setRooms(list) {
    for (const r of list) {
        if (r.last_message && seen.get(r.id) === r.last_message.id) {
            r.unread_count = 0;
        }
    }
    rooms = new Map(list.map((r) => [r.id, r]));
    order = list.map((r) => r.id);
    renderRooms();
    const active = activeId && rooms.get(activeId);
    if (active) {
        renderRoomHead(active);
        if (active.unread_count > 0) {
            scheduleMarkRead();
        }
    }
}

let polling = false;

async function poll() {
    if (polling) {
        return;                 /* one poll at a time */
    }
    clearTimeout(pollTimer);
    pollTimer = null;
    if (!session) {
        return;
    }
    polling = true;
    try {
        await pollOnce();
    } finally {
        polling = false;
    }
    if (session) {
        clearTimeout(pollTimer);
        pollTimer = setTimeout(poll, POLL_MS);
    }
}

async function pollOnce() {
    if (document.visibilityState !== 'hidden') {
        try {
            const { data } = await authed('GET', '/api/chat/rooms/');
            if (!session) {
                return;
            }
            setRooms(data);
            loadedOnce = true;
            if (/^(Offline|Loading)/.test(status.textContent)) {
                setText(status, '');
            }
        } catch (e) {
            if (!session) {
                return;
            }
            if (e instanceof ApiError && e.status === 0) {
                setText(status, 'Offline: the conversations will update when the connection is back.');
            }
        }
    }
}

function stopPolling() {
    clearTimeout(pollTimer);
    pollTimer = null;
}

/* The owner read the active room up to its last message: moves the read
 * cursor (reading the history does), so the unread count drops. Batched
 * over a short delay; leaving the room sends it at once. */
function scheduleMarkRead() {
    clearTimeout(markTimer);
    markPending = activeId;
    markTimer = setTimeout(markRead, 600);
}

function markRead() {
    clearTimeout(markTimer);
    markTimer = null;
    const id = markPending;
    markPending = null;
    if (!chat || !id || id !== activeId) {
        return;
    }
    const ids = [...chat.messages.keys()];
    if (!ids.length) {
        return;
    }
    seen.set(id, ids[ids.length - 1]);
    authed('GET', `/api/chat/rooms/${id}/messages/`, {
        query: { since: ids.length > 1 ? ids[ids.length - 2] : '0' },
    }).catch(() => { /* the next poll shows it unread; opening reads it */ });
}

/* ------------------------------------------------------------ one room */

function renderRoomHead(room) {
    $('room-title').textContent = roomName(room);
    $('room-state').textContent = roomStateText(room);
    const toggle = $('room-toggle');
    toggle.textContent = room.is_active ? 'Close chat' : 'Reopen chat';
    toggle.disabled = Boolean(room.visitor_blocked);
    const block = $('room-block');
    block.disabled = Boolean(room.visitor_blocked);
    block.textContent = room.visitor_blocked ? 'Visitor blocked' : 'Block visitor';
}

function closeRoom() {
    if (markPending) {
        markRead();
    }
    if (chat) {
        chat.destroy();
        chat = null;
    }
    activeId = null;
    $('room-pane').hidden = true;
    $('room-placeholder').hidden = false;
    $('inbox-view').classList.remove('room-open');
}

async function openRoom(id) {
    if (activeId === id && chat) {
        return;
    }
    closeRoom();
    activeId = id;
    $('inbox-view').classList.add('room-open');
    $('room-pane').hidden = false;
    $('room-placeholder').hidden = true;
    let room = rooms.get(id);
    if (!room) {
        try {
            room = (await authed('GET', `/api/chat/rooms/${id}/`)).data;
        } catch (e) {
            if (activeId === id) {
                closeRoom();
                setText(alertBox, e instanceof ApiError && e.status === 404
                    ? 'This conversation does not exist (any more).' : e.message);
                window.location.hash = '';
            }
            return;
        }
        if (activeId !== id) {
            return;
        }
    }
    renderRoomHead(room);
    renderRooms();
    document.title = roomName(room) + ' – CarInfo inbox';
    chat = new ChatView($('room-chat'), {
        role: 'owner',
        /* the server's ws_path when it sends one, else its default */
        wsPath: room.ws_path || `${base}/ws/chat/${id}/`,
        names: { mine: 'You', theirs: roomName(room) },
        fetchHistory: async (since) => (await authed('GET', `/api/chat/rooms/${id}/messages/`, {
            query: { since: since || undefined },
        })).data,
        socketQuery: async () => ({ token: await freshAccess() }),
        onGone: () => {
            if (activeId === id) {
                closeRoom();
                setText(alertBox, 'This conversation is no longer available.');
                window.location.hash = '';
            }
        },
        onMessage: (m) => {
            const r = rooms.get(id);
            if (r) {
                r.last_message = { id: m.id, room_id: id, sender_type: m.sender_type,
                                   content: typeof m.message === 'string' ? m.message : m.content,
                                   created_at: m.created_at };
                r.unread_count = 0;
            }
            if (m.sender_type !== 'visitor') {
                seen.set(id, m.id);
            }
            if (m.sender_type === 'visitor' && chat && chat.started) {
                scheduleMarkRead();
            }
            renderRooms();
        },
    });
    await chat.start();
    if (activeId === id && chat && chat.lastId) {
        seen.set(id, chat.lastId);      /* the history read moved the cursor */
    }
    /* keyboard users land in the message box (the list item they came
     * from is hidden on a phone) */
    if (activeId === id && chat && (document.activeElement === document.body
                                    || !isVisible(document.activeElement))) {
        chat.focus();
    }
}

function isVisible(node) {
    return Boolean(node && node.getClientRects().length);
}

async function toggleRoom() {
    const room = rooms.get(activeId);
    if (!room) {
        return;
    }
    const button = $('room-toggle');
    button.disabled = true;
    try {
        const { data } = await authed('PATCH', `/api/chat/rooms/${room.id}/`, {
            body: { is_active: !room.is_active },
        });
        Object.assign(room, data);
        renderRoomHead(room);
        renderRooms();
        setText(status, data.is_active ? 'The chat is open again.' : 'The chat is closed.');
    } catch (e) {
        setText(alertBox, e.message);
        renderRoomHead(room);
    }
}

async function blockVisitor() {
    const room = rooms.get(activeId);
    if (!room || room.visitor_blocked) {
        return;
    }
    if (!window.confirm(`Block ${roomName(room)}? They will no longer be able to read or write in this conversation.`)) {
        return;
    }
    try {
        const { data } = await authed('POST', `/api/chat/rooms/${room.id}/block/`);
        Object.assign(room, data);
        renderRoomHead(room);
        renderRooms();
        setText(status, 'The visitor is blocked.');
    } catch (e) {
        setText(alertBox, e.message);
    }
}

/* ------------------------------------------------------------ profile */

const EDITABLE = ['full_name', 'car_model', 'car_plate_number', 'telegram',
                  'instagram', 'whatsapp', 'phone_number_2', 'email'];

async function showProfile() {
    closeRoom();
    document.title = 'Your profile – CarInfo inbox';
    show('profile-view');
    const form = $('profile-form');
    clearFormErrors(form);
    setText($('profile-saved'), '');
    try {
        const { data } = await busy(form, authed('GET', '/api/profile/'));
        fillProfile(data);
        form.elements.namedItem('is_profile_public').focus();
    } catch (e) {
        if (session) {
            showApiError(form, e);
        }
    }
}

function fillProfile(p) {
    const f = $('profile-form').elements;
    $('profile-phone').textContent = p.phone_number || '';
    for (const name of EDITABLE) {
        f.namedItem(name).value = typeof p[name] === 'string' ? p[name] : '';
    }
    f.namedItem('is_profile_public').checked = Boolean(p.is_profile_public);
}

async function saveProfile(ev) {
    ev.preventDefault();
    const form = ev.currentTarget;
    clearFormErrors(form);
    setText($('profile-saved'), '');
    const body = { is_profile_public: form.elements.namedItem('is_profile_public').checked };
    for (const name of EDITABLE) {
        body[name] = form.elements.namedItem(name).value.trim();
    }
    try {
        const { data } = await busy(form, authed('PATCH', '/api/profile/', { body }));
        fillProfile(data);
        setText($('profile-saved'), data.is_profile_public
            ? 'Saved. Your profile is public.' : 'Saved. Your profile is private.');
    } catch (e) {
        if (session) {
            showApiError(form, e);
        }
    }
}

/* ------------------------------------------------------------ routing */

function showInbox() {
    show('inbox-view');
    renderRooms();
    if (!pollTimer) {
        poll();
    }
}

function route() {
    setText(alertBox, '');
    if (!session) {
        closeRoom();
        showLogin();
        return;
    }
    const hash = window.location.hash;
    if (hash === '#profile') {
        showProfile();
        return;
    }
    showInbox();
    const m = hash.match(/^#room\/([0-9a-fA-F-]{32,36})$/);
    if (m && isUuid(m[1])) {
        openRoom(m[1].toLowerCase());
    } else {
        const was = activeId;
        closeRoom();
        renderRooms();
        if (!loadedOnce) {
            setText(status, 'Loading your conversations…');
        }
        /* back from a room: to its item in the list */
        const item = was && document.querySelector(`#rooms a.room[data-id="${was}"]`);
        if (item) {
            item.focus();
        }
    }
}

function main() {
    if (!validSession(session)) {
        session = null;
        forget(KEY);
    }
    $('login-form').addEventListener('submit', login);
    $('profile-form').addEventListener('submit', saveProfile);
    $('logout').addEventListener('click', logout);
    $('room-toggle').addEventListener('click', toggleRoom);
    $('room-block').addEventListener('click', blockVisitor);
    window.addEventListener('hashchange', route);
    document.addEventListener('visibilitychange', () => {
        if (session && document.visibilityState === 'visible') {
            poll();
        }
    });
    /* another tab logged in or out */
    window.addEventListener('storage', (ev) => {
        if (ev.key === KEY) {
            const s = load(KEY);
            if (!validSession(s) && session) {
                endSession('You logged out in another window.');
            } else if (validSession(s)) {
                session = s;
            }
        }
    });
    route();
}

main();
