/* common.js: what the sticker page and the inbox share.
 *
 * Rules every page script follows (the pages run under a CSP without
 * 'unsafe-inline' or 'unsafe-eval'):
 *  - the DOM is built with createElement/textContent, never innerHTML or
 *    insertAdjacentHTML with data, and no element gets a style attribute
 *    (visibility is the `hidden` attribute, looks are classes);
 *  - every URL is built from the mount base, computed from
 *    location.pathname (everything before /q/, /inbox/, /api/docs/ or
 *    /api/redoc/), so the pages work under / and under a prefix such as
 *    /back; nothing is loaded from another host;
 *  - links made from user data are checked: only https: (and tel: built
 *    from digits) ever reach an href.
 */

const PAGE_MARKERS = ['/q/', '/inbox/', '/api/docs/', '/api/redoc/'];
const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/* The mount prefix of the page ("" at the root, "/back" under /back). */
export function mountBase(pathname = window.location.pathname) {
    let best = -1;
    for (const marker of PAGE_MARKERS) {
        const i = pathname.lastIndexOf(marker);
        if (i > best) {
            best = i;
        }
    }
    return best >= 0 ? pathname.slice(0, best) : '';
}

export function isUuid(s) {
    return typeof s === 'string' && UUID_RE.test(s);
}

/* ------------------------------------------------------------ DOM */

/* el('p', {className: 'x', text: 'hi'}, child, ...): an element with
 * properties (text -> textContent, data-* and aria-* -> attributes) and
 * children (nodes or strings, as text). */
export function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
        if (value === undefined || value === null || value === false) {
            continue;
        }
        if (key === 'text') {
            node.textContent = String(value);
        } else if (key === 'className') {
            node.className = value;
        } else if (key.startsWith('data-') || key.startsWith('aria-')
                   || key === 'role' || key === 'for' || key === 'datetime') {
            node.setAttribute(key, value === true ? 'true' : String(value));
        } else {
            node[key] = value;
        }
    }
    for (const child of children) {
        if (child === null || child === undefined || child === false) {
            continue;
        }
        node.append(typeof child === 'string' ? document.createTextNode(child)
                                              : child);
    }
    return node;
}

export function $(id) {
    return document.getElementById(id);
}

export function show(node, visible = true) {
    node.hidden = !visible;
}

/* Shows exactly one of `views` (elements), hides the others. */
export function showOnly(views, which) {
    for (const v of views) {
        v.hidden = v !== which;
    }
}

/* A status line (role=status) and an alert box (role=alert). */
export function setText(node, text) {
    node.textContent = text || '';
    node.hidden = !text;
}

/* ------------------------------------------------------------ HTTP */

export class ApiError extends Error {
    constructor(status, data, retryAfter) {
        super(errorText(data, status));
        this.name = 'ApiError';
        this.status = status;
        this.data = data;
        this.retryAfter = retryAfter ? Number(retryAfter) : null;
    }
}

/* The sentence to show for an error body: DRF's {"detail"} or the
 * messages of {"field": [...]}. */
export function errorText(data, status) {
    if (data && typeof data === 'object') {
        if (typeof data.detail === 'string') {
            return data.detail;
        }
        const parts = [];
        for (const [field, msgs] of Object.entries(data)) {
            const list = Array.isArray(msgs) ? msgs : [msgs];
            const name = field === 'non_field_errors' ? '' : fieldLabel(field) + ': ';
            parts.push(name + list.join(' '));
        }
        if (parts.length) {
            return parts.join(' ');
        }
    }
    if (status === 0) {
        return 'The server cannot be reached. Check your connection and try again.';
    }
    return `The server answered with an error (${status}). Try again later.`;
}

function fieldLabel(field) {
    return field.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

/* A JSON call to the API below the mount. Resolves {status, data}; rejects
 * with ApiError (status 0 when the server was not reached). */
export async function apiCall(base, method, path, options = {}) {
    const { body, token, query, signal } = options;
    let url = base + path;
    if (query) {
        const q = new URLSearchParams();
        for (const [k, v] of Object.entries(query)) {
            if (v !== undefined && v !== null) {
                q.set(k, v);
            }
        }
        const s = q.toString();
        if (s) {
            url += '?' + s;
        }
    }
    const headers = { Accept: 'application/json' };
    if (body !== undefined) {
        headers['Content-Type'] = 'application/json';
    }
    if (token) {
        headers.Authorization = 'Bearer ' + token;
    }
    let res;
    try {
        res = await fetch(url, {
            method,
            headers,
            body: body === undefined ? undefined : JSON.stringify(body),
            credentials: 'same-origin',
            cache: 'no-store',
            redirect: 'error',
            signal,
        });
    } catch (e) {
        if (e && e.name === 'AbortError') {
            throw e;
        }
        throw new ApiError(0, null);
    }
    let data = null;
    const type = res.headers.get('Content-Type') || '';
    if (res.status !== 204 && type.includes('json')) {
        try {
            data = await res.json();
        } catch (e) {
            data = null;
        }
    }
    if (!res.ok) {
        throw new ApiError(res.status, data, res.headers.get('Retry-After'));
    }
    return { status: res.status, data };
}

/* The absolute WebSocket URL of a ws_path (a path on this host, or a full
 * ws:/wss:/http:/https: URL when the server hands out another host), with
 * the query parameters added. */
export function socketUrl(wsPath, query = {}) {
    let url;
    if (/^wss?:\/\//i.test(wsPath)) {
        url = new URL(wsPath);
    } else if (/^https?:\/\//i.test(wsPath)) {
        url = new URL(wsPath);
        url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    } else {
        url = new URL(wsPath, window.location.href);
        url.protocol = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    }
    for (const [k, v] of Object.entries(query)) {
        if (v !== undefined && v !== null && v !== '') {
            url.searchParams.set(k, v);
        }
    }
    return url.href;
}

/* ------------------------------------------------------------ storage */

/* localStorage that never throws (private modes, full quota): values are
 * JSON; a key is scoped to the mount so two deployments on one origin do
 * not mix. */
export function storageKey(base, name) {
    return `carinfo:v1:${base || '/'}:${name}`;
}

export function load(key) {
    try {
        const raw = window.localStorage.getItem(key);
        return raw ? JSON.parse(raw) : null;
    } catch (e) {
        return null;
    }
}

export function save(key, value) {
    try {
        window.localStorage.setItem(key, JSON.stringify(value));
        return true;
    } catch (e) {
        return false;
    }
}

export function forget(key) {
    try {
        window.localStorage.removeItem(key);
    } catch (e) {
        /* nothing to do */
    }
}

/* ------------------------------------------------------------ owner session */

/* The owner's tokens, shared by the sticker page (after registration) and
 * the inbox. */
export function sessionKey(base) {
    return storageKey(base, 'owner');
}

/* Seconds until the JWT expires (null when unreadable). The signature is the
 * server's business; this only avoids sending a token about to expire. */
export function jwtSecondsLeft(token) {
    try {
        const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
        const json = atob(part + '='.repeat((4 - (part.length % 4)) % 4));
        const exp = JSON.parse(json).exp;
        return typeof exp === 'number' ? exp - Date.now() / 1000 : null;
    } catch (e) {
        return null;
    }
}

/* ------------------------------------------------------------ formatting */

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dateTimeFmt = new Intl.DateTimeFormat(undefined, {
    day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit',
});

export function formatTime(iso) {
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) {
        return '';
    }
    const now = new Date();
    return d.toDateString() === now.toDateString() ? timeFmt.format(d)
                                                   : dateTimeFmt.format(d);
}

export function timeEl(iso) {
    return el('time', { datetime: iso, text: formatTime(iso) });
}

/* ------------------------------------------------------------ contact links */

function clean(value) {
    return typeof value === 'string' ? value.trim() : '';
}

function httpsOnly(href) {
    try {
        const u = new URL(href);
        return u.protocol === 'https:' ? u.href : null;
    } catch (e) {
        return null;
    }
}

function digitsOf(value) {
    const s = clean(value);
    if (!/^\+?[0-9 ().-]{6,32}$/.test(s)) {
        return null;
    }
    const digits = s.replace(/[^0-9]/g, '');
    return digits.length >= 7 && digits.length <= 15 ? digits : null;
}

/* "@name", "name", "t.me/name", "https://t.me/name" -> https://t.me/name */
export function telegramLink(value) {
    let s = clean(value);
    const m = s.match(/^(?:https?:\/\/)?(?:www\.)?(?:t|telegram)\.me\/(.+?)\/?$/i);
    if (m) {
        s = m[1];
    }
    s = s.replace(/^@/, '');
    if (!/^[A-Za-z0-9_]{3,32}$/.test(s)) {
        return null;
    }
    const href = httpsOnly('https://t.me/' + s);
    return href && { href, text: '@' + s };
}

/* "name", "@name", "instagram.com/name" -> https://www.instagram.com/name/ */
export function instagramLink(value) {
    let s = clean(value);
    const m = s.match(/^(?:https?:\/\/)?(?:www\.)?instagram\.com\/(.+?)\/?$/i);
    if (m) {
        s = m[1];
    }
    s = s.replace(/^@/, '');
    if (!/^[A-Za-z0-9._]{1,30}$/.test(s) || /^\.|\.\.|\.$/.test(s)) {
        return null;
    }
    const href = httpsOnly(`https://www.instagram.com/${s}/`);
    return href && { href, text: '@' + s };
}

/* a phone number or wa.me link -> https://wa.me/<digits> */
export function whatsappLink(value) {
    let s = clean(value);
    const m = s.match(/^(?:https?:\/\/)?(?:www\.)?wa\.me\/\+?([0-9]+)\/?$/i);
    if (m) {
        s = m[1];
    }
    const digits = digitsOf(s);
    if (!digits) {
        return null;
    }
    const href = httpsOnly('https://wa.me/' + digits);
    return href && { href, text: '+' + digits };
}

/* a phone number -> tel:+<digits> (built from digits only) */
export function phoneLink(value) {
    const digits = digitsOf(value);
    if (!digits) {
        return null;
    }
    return { href: 'tel:+' + digits, text: clean(value) };
}

/* The contact rows of a public profile: [{kind, label, text, href|null}];
 * a value that is no valid handle is shown as text, never as a link. */
export function contactLinks(profile) {
    const rows = [];
    const add = (kind, label, value, make) => {
        const v = clean(value);
        if (!v) {
            return;
        }
        const link = make(v);
        rows.push({ kind, label, text: link ? link.text : v, href: link ? link.href : null });
    };
    add('telegram', 'Telegram', profile.telegram, telegramLink);
    add('instagram', 'Instagram', profile.instagram, instagramLink);
    add('whatsapp', 'WhatsApp', profile.whatsapp, whatsappLink);
    add('phone', 'Phone', profile.phone_number_2, phoneLink);
    return rows;
}

/* ------------------------------------------------------------ forms */

/* Clears the error texts of a form built with fieldError() slots. */
export function clearFormErrors(form) {
    for (const node of form.querySelectorAll('.field-error')) {
        node.textContent = '';
        node.hidden = true;
    }
    for (const node of form.querySelectorAll('[aria-invalid]')) {
        node.removeAttribute('aria-invalid');
    }
    const general = form.querySelector('.form-error');
    if (general) {
        general.textContent = '';
        general.hidden = true;
    }
}

/* Puts messages next to their fields (an element #<form.id>-<field>-error
 * for input name=<field>); messages of unknown fields go to the form's
 * .form-error. Focuses the first invalid field. Returns whether any field
 * message was placed. */
export function showFormErrors(form, errors) {
    const general = [];
    let first = null;
    for (const [field, msgs] of Object.entries(errors)) {
        const text = (Array.isArray(msgs) ? msgs : [msgs]).join(' ');
        const input = form.elements.namedItem(field);
        const slot = form.querySelector(`#${form.id}-${field}-error`);
        if (input && slot && input instanceof HTMLElement) {
            slot.textContent = text;
            slot.hidden = false;
            input.setAttribute('aria-invalid', 'true');
            first = first || input;
        } else {
            general.push(text);
        }
    }
    const box = form.querySelector('.form-error');
    if (box && general.length) {
        box.textContent = general.join(' ');
        box.hidden = false;
    }
    if (first) {
        first.focus();
    } else if (box && general.length) {
        box.focus();
    }
    return Boolean(first);
}

/* Shows an ApiError on a form: field messages for a 400, the detail
 * otherwise (with the wait for a 429). */
export function showApiError(form, err) {
    if (err instanceof ApiError && err.status === 400 && err.data
        && typeof err.data === 'object' && !err.data.detail) {
        showFormErrors(form, err.data);
        return;
    }
    let text = err instanceof ApiError ? err.message : 'Something went wrong. Try again.';
    if (err instanceof ApiError && err.status === 429 && err.retryAfter) {
        text = `Too many attempts. Try again in ${err.retryAfter} s.`;
    }
    showFormErrors(form, { __form__: text });
}

/* Disables a form's controls while `promise` runs. */
export async function busy(form, promise) {
    const controls = [...form.elements];
    const was = controls.map((c) => c.disabled);
    controls.forEach((c) => { c.disabled = true; });
    form.setAttribute('aria-busy', 'true');
    try {
        return await promise;
    } finally {
        controls.forEach((c, i) => { c.disabled = was[i]; });
        form.removeAttribute('aria-busy');
    }
}
