/* chat.js: one live conversation (the visitor's page and the owner's
 * inbox both use it).
 *
 * History comes over REST; live messages over the room's WebSocket
 * (frames of specs 001/004: we send {"message"}, the relay broadcasts
 * {"id","room_id","sender_type","message","created_at"} to every socket of
 * the room, ours included, and answers a frame it refuses with
 * {"type":"error","code","detail"}, in order).
 *
 * Sending state per message: a message is "queued" (no socket yet),
 * "sending" (written to the socket, not yet broadcast back) or "failed"
 * (refused; a Retry button sends it again). The broadcast of our own
 * message (same sender_type, same text, in order) confirms it.
 *
 * Reconnection: when the socket closes, the view waits (1 s, doubling to
 * 15 s, with jitter; at once when the browser comes back online or the
 * tab is shown again), fetches over REST what came after the last message
 * it has (which also confirms any message that was stored before the
 * socket died), then reconnects with ?since=<that id>, so nothing is lost
 * or shown twice; messages still unconfirmed are sent again.
 */
import { ApiError, el, formatTime, socketUrl } from './common.js';

const MAX_LEN = 4000;
const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 15000;

let instances = 0;

export class ChatView {
    /* root: the element to fill. opts:
     *   role: 'visitor' | 'owner' (our sender_type)
     *   wsPath: from POST /api/chat/start/ (or derived for the owner)
     *   names: {mine, theirs} (labels of the two sides)
     *   fetchHistory(since): Promise<[message]> (REST; since may be null)
     *   socketQuery(): Promise<{visitor}|{token}> (fresh credentials)
     *   onGone(err): the room no longer opens with these credentials
     *   onMessage(msg): after a new message is shown (optional)
     *   closedText: text shown when sending is refused for good
     */
    constructor(root, opts) {
        this.root = root;
        this.opts = opts;
        this.id = ++instances;
        this.messages = new Map();      /* id -> li */
        this.lastId = null;
        this.pending = [];              /* {text, state, li} in send order */
        this.ws = null;
        this.attempts = 0;
        this.timer = null;
        this.destroyed = false;
        this.closed = false;
        this.started = false;
        this.build();
        this.onOnline = () => this.reconnectNow();
        this.onVisible = () => {
            if (document.visibilityState === 'visible') {
                this.reconnectNow();
            }
        };
        window.addEventListener('online', this.onOnline);
        document.addEventListener('visibilitychange', this.onVisible);
    }

    build() {
        const inputId = `chat-${this.id}-text`;
        const hintId = `chat-${this.id}-hint`;
        this.statusText = el('span', { className: 'chat-status-text' });
        this.retryNow = el('button', {
            type: 'button', className: 'link-button', text: 'Reconnect now', hidden: true,
        });
        this.retryNow.addEventListener('click', () => this.reconnectNow());
        this.status = el('p', { className: 'chat-status', role: 'status' },
                         this.statusText, ' ', this.retryNow);
        this.list = el('ol', { className: 'messages' });
        /* the scrolling box: a live log, reachable with Tab for reading */
        this.box = el('div', {
            className: 'messages-box', role: 'log', 'aria-live': 'polite',
            'aria-label': 'Messages', tabIndex: 0,
        }, this.list);
        this.empty = el('p', { className: 'chat-empty', text: 'No messages yet. Say hello!' });
        this.closedNote = el('p', { className: 'chat-closed', role: 'alert', hidden: true });
        this.input = el('textarea', {
            id: inputId, name: 'message', rows: 2, maxLength: MAX_LEN,
            required: true, autocomplete: 'off', 'aria-describedby': hintId,
        });
        this.sendButton = el('button', { type: 'submit', className: 'primary', text: 'Send' });
        this.form = el('form', { className: 'composer', noValidate: true },
            el('label', { for: inputId, text: 'Message' }),
            el('div', { className: 'composer-row' }, this.input, this.sendButton),
            el('p', { id: hintId, className: 'hint', text: 'Enter sends, Shift+Enter starts a new line.' }));
        this.form.addEventListener('submit', (ev) => {
            ev.preventDefault();
            this.submit();
        });
        this.input.addEventListener('keydown', (ev) => {
            if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
                ev.preventDefault();
                this.submit();
            }
        });
        this.root.replaceChildren(this.status, this.empty, this.box, this.closedNote, this.form);
    }

    async start() {
        this.setStatus('Loading the conversation…');
        let history;
        try {
            history = await this.opts.fetchHistory(null);
        } catch (e) {
            if (this.isGone(e)) {
                this.gone(e);
                return;
            }
            this.setStatus(e.message || 'The conversation could not be loaded.');
            this.scheduleReconnect();
            return;
        }
        for (const m of history) {
            this.addConfirmed(m);
        }
        this.started = true;
        this.scrollToEnd(true);
        this.connect();
    }

    destroy() {
        this.destroyed = true;
        clearTimeout(this.timer);
        window.removeEventListener('online', this.onOnline);
        document.removeEventListener('visibilitychange', this.onVisible);
        if (this.ws) {
            const ws = this.ws;
            this.ws = null;
            ws.onclose = null;
            ws.onmessage = null;
            ws.onerror = null;
            ws.close(1000, 'page left');
        }
    }

    focus() {
        if (!this.input.disabled) {
            this.input.focus();
        }
    }

    /* Sending is refused for good (room closed, visitor blocked). */
    setClosed(closed, text) {
        this.closed = closed;
        this.closedNote.textContent = closed ? (text || this.opts.closedText || 'This chat is closed.') : '';
        this.closedNote.hidden = !closed;
        this.input.disabled = closed;
        this.sendButton.disabled = closed;
        if (closed) {
            for (const p of this.pending.filter((x) => x.state !== 'sending')) {
                this.markFailed(p, 'Not sent: this chat is closed.', false);
            }
        }
        if (this.opts.onClosedChange) {
            this.opts.onClosedChange(closed);
        }
    }

    /* ------------------------------------------------------------ status */

    setStatus(text, offerRetry = false) {
        this.statusText.textContent = text;
        this.retryNow.hidden = !offerRetry;
        this.root.dataset.state = this.ws && this.ws.readyState === WebSocket.OPEN ? 'live' : 'offline';
    }

    /* ------------------------------------------------------------ rendering */

    isMine(m) {
        return m.sender_type === this.opts.role;
    }

    messageItem(m, text) {
        const mine = this.isMine(m);
        const li = el('li', { className: `msg ${mine ? 'mine' : 'theirs'}` });
        const who = mine ? this.opts.names.mine : this.opts.names.theirs;
        li.append(
            el('p', { className: 'msg-text', text }),
            el('p', { className: 'msg-meta' },
               el('span', { className: 'msg-who', text: who }),
               m.created_at ? ' · ' : '',
               m.created_at ? el('time', { datetime: m.created_at, text: formatTime(m.created_at) }) : '',
               el('span', { className: 'msg-state' })));
        return li;
    }

    /* A stored message (REST or socket); duplicates are ignored. Confirms
     * our own pending message with the same text, if any. */
    addConfirmed(m) {
        if (!m || typeof m.id !== 'string' || this.messages.has(m.id)) {
            return false;
        }
        const text = typeof m.message === 'string' ? m.message
                   : typeof m.content === 'string' ? m.content : '';
        const li = this.messageItem(m, text);
        li.dataset.id = m.id;
        if (this.isMine(m)) {
            const i = this.pending.findIndex((p) => p.state === 'sending' && p.text === text);
            if (i >= 0) {
                const [p] = this.pending.splice(i, 1);
                p.li.remove();
                li.querySelector('.msg-state').textContent = ' · Sent';
            }
        }
        const firstPending = this.pending.length ? this.pending[0].li : null;
        this.list.insertBefore(li, firstPending && firstPending.parentNode === this.list ? firstPending : null);
        this.messages.set(m.id, li);
        this.lastId = m.id;
        this.empty.hidden = true;
        if (this.opts.onMessage) {
            this.opts.onMessage(m);
        }
        return true;
    }

    scrollToEnd(force = false) {
        const l = this.box;
        const near = l.scrollHeight - l.scrollTop - l.clientHeight < 120;
        if (force || near) {
            l.scrollTop = l.scrollHeight;
        }
    }

    /* ------------------------------------------------------------ sending */

    submit() {
        if (this.closed) {
            return;
        }
        const text = this.input.value;
        if (!text.trim()) {
            this.input.focus();
            return;
        }
        if (text.length > MAX_LEN) {
            return;
        }
        this.input.value = '';
        const p = { text, state: 'queued', li: null };
        p.li = this.messageItem({ sender_type: this.opts.role }, text);
        p.li.classList.add('pending');
        this.pending.push(p);
        this.list.append(p.li);
        this.empty.hidden = true;
        this.setPendingState(p, 'queued');
        this.scrollToEnd(true);
        this.flush();
        this.input.focus();
    }

    setPendingState(p, state, detail) {
        p.state = state;
        p.li.dataset.state = state;
        const slot = p.li.querySelector('.msg-state');
        const labels = { queued: 'Waiting for the connection…', sending: 'Sending…', failed: detail || 'Not sent.' };
        slot.replaceChildren(' · ' + labels[state]);
        p.li.classList.toggle('failed', state === 'failed');
    }

    markFailed(p, detail, canRetry = true) {
        this.setPendingState(p, 'failed', detail);
        if (canRetry && !this.closed) {
            const retry = el('button', { type: 'button', className: 'link-button', text: 'Retry' });
            retry.addEventListener('click', () => {
                this.setPendingState(p, 'queued');
                /* to the end of the queue, in send order */
                this.pending.splice(this.pending.indexOf(p), 1);
                this.pending.push(p);
                this.list.append(p.li);
                this.flush();
                this.input.focus();
            });
            p.li.querySelector('.msg-state').append(' ', retry);
        }
    }

    flush() {
        if (!this.ws || this.ws.readyState !== WebSocket.OPEN) {
            return;
        }
        for (const p of this.pending) {
            if (p.state === 'queued') {
                try {
                    this.ws.send(JSON.stringify({ message: p.text }));
                    this.setPendingState(p, 'sending');
                } catch (e) {
                    return;             /* the close handler reconnects */
                }
            }
        }
    }

    /* ------------------------------------------------------------ socket */

    async connect() {
        if (this.destroyed) {
            return;
        }
        this.setStatus(this.attempts ? 'Reconnecting…' : 'Connecting…');
        let query;
        try {
            query = await this.opts.socketQuery();
        } catch (e) {
            this.goneOrRetry(e);
            return;
        }
        if (this.destroyed) {
            return;
        }
        if (this.lastId) {
            query = Object.assign({}, query, { since: this.lastId });
        }
        let ws;
        try {
            ws = new WebSocket(socketUrl(this.opts.wsPath, query));
        } catch (e) {
            this.scheduleReconnect();
            return;
        }
        this.ws = ws;
        ws.onopen = () => {
            this.attempts = 0;
            this.setStatus('Connected');
            this.flush();
        };
        ws.onmessage = (ev) => this.onFrame(ev.data);
        ws.onerror = () => { /* onclose follows */ };
        ws.onclose = (ev) => {
            if (this.ws !== ws) {
                return;
            }
            this.ws = null;
            if (this.destroyed) {
                return;
            }
            this.scheduleReconnect(ev.code);
        };
    }

    onFrame(raw) {
        let frame;
        try {
            frame = JSON.parse(raw);
        } catch (e) {
            return;
        }
        if (!frame || typeof frame !== 'object') {
            return;
        }
        if (frame.type === 'error') {
            this.onErrorFrame(frame);
            return;
        }
        if (this.addConfirmed(frame)) {
            this.scrollToEnd(this.isMine(frame));
        }
    }

    onErrorFrame(frame) {
        /* Error frames answer our frames in order: the oldest one in
         * flight was refused. */
        const p = this.pending.find((x) => x.state === 'sending');
        const detail = typeof frame.detail === 'string' ? frame.detail : 'Not sent.';
        if (frame.code === 'permission_denied' || frame.code === 'not_found') {
            if (p) {
                this.markFailed(p, 'Not sent: ' + detail, false);
            }
            this.setClosed(true, this.opts.closedText || detail);
            return;
        }
        if (p) {
            this.markFailed(p, 'Not sent: ' + detail, true);
        } else {
            this.setStatus(detail);
        }
    }

    scheduleReconnect(code) {
        if (this.destroyed) {
            return;
        }
        clearTimeout(this.timer);
        const base = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** this.attempts);
        const delay = Math.round(base * (0.8 + 0.4 * Math.random()));
        this.attempts += 1;
        const why = code === 1008 ? 'The connection was closed (too many messages at once). '
                                  : 'Connection lost. ';
        this.setStatus(`${why}Reconnecting in ${Math.ceil(delay / 1000)} s…`, true);
        this.timer = setTimeout(() => this.resync(), delay);
    }

    reconnectNow() {
        if (this.destroyed || this.ws || !this.started) {
            return;
        }
        clearTimeout(this.timer);
        this.resync();
    }

    /* REST catch-up, then a new socket with ?since=. */
    async resync() {
        if (this.destroyed || this.ws) {
            return;
        }
        clearTimeout(this.timer);
        this.setStatus('Reconnecting…');
        if (!this.started) {
            this.start();
            return;
        }
        let missed;
        try {
            missed = await this.opts.fetchHistory(this.lastId);
        } catch (e) {
            this.goneOrRetry(e);
            return;
        }
        for (const m of missed) {
            this.addConfirmed(m);
        }
        this.scrollToEnd();
        /* What was in flight and is not stored was lost with the socket:
         * send it again on the new one. */
        for (const p of this.pending) {
            if (p.state === 'sending') {
                this.setPendingState(p, 'queued');
            }
        }
        this.connect();
    }

    isGone(e) {
        return e instanceof ApiError && (e.status === 404 || e.status === 403
                                         || (e.status === 401 && this.opts.role === 'visitor'));
    }

    /* A failed step of (re)connecting: the end when the room is gone,
     * else another try later. */
    goneOrRetry(e) {
        if (this.isGone(e)) {
            this.gone(e);
        } else {
            this.scheduleReconnect();
        }
    }

    gone(e) {
        this.destroy();
        if (this.opts.onGone) {
            this.opts.onGone(e);
        }
    }
}
