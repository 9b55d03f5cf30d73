/* wsload: the WebSocket load client of the benchmark (bench/README.md).
 *
 * Built by bench/run:  gcc -O2 -o wsload wsload.c \
 *                          $(pkg-config --cflags --libs libwebsockets)
 *
 * It speaks the relay's chat protocol (ws-relay/relay_chat.h): one socket
 * per party on /ws/chat/<room>/, the visitor with ?visitor=<token>, the
 * owner with ?token=<JWT>; a client frame is {"message":"..."} and every
 * socket of the room receives {"id","room_id","sender_type","message",
 * "created_at"} once the message is committed.
 *
 *   wsload --port P --rooms FILE [--owner-token JWT] --mode rate
 *          --rate R [--closed-loop] [--warmup S] [--duration S]
 *     Opens a visitor and (with --owner-token) an owner socket per room,
 *     then the visitors send R messages a second in all, evenly spread
 *     (R / rooms each; keep that under the relay's 20 a second). A message
 *     carries its send time (CLOCK_MONOTONIC); the owner's receipt of the
 *     broadcast gives the visitor-to-owner latency. --closed-loop: a
 *     visitor sends its next message only after its previous one came back
 *     (a throughput test: the relay never sees a burst from one socket).
 *     Prints one JSON object: sent, committed (broadcasts the owners
 *     received in the measured window) per second, latency percentiles.
 *
 *   wsload --port P --rooms FILE --mode hold --sockets N [--hold S]
 *     Opens N visitor sockets over the rooms (round robin), prints
 *     "HOLDING <open>" on its own line once every attempt has ended, holds
 *     them until SIGUSR1 (or for --hold seconds), then checks they are
 *     alive: one message in each of up to 20 rooms must reach every open
 *     socket of those rooms.
 *     Prints one JSON object.
 *
 * It connects to 127.0.0.x only (--host; --iface picks another 127.x
 * source address), stops by itself (--max-seconds), opens at most
 * --concurrency handshakes at a time and counts a handshake unanswered
 * after --connect-timeout seconds as timed out. --libev runs lws on its
 * libev plugin (epoll) instead of poll(). ROOMS FILE: one
 * "<room uuid> <visitor token>" per line.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <libwebsockets.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MAX_TEXT 1024
#define PROBE_ROOMS 20

enum { ST_IDLE, ST_CONNECTING, ST_OPEN, ST_CLOSED, ST_FAILED };
enum { ROLE_VISITOR, ROLE_OWNER };
enum { MODE_RATE, MODE_HOLD };

typedef struct conn {
    struct lws *wsi;
    int idx;                    /* index in conns */
    int room;                   /* index in rooms */
    int role;
    int state;
    int outstanding;            /* own message not yet echoed */
    int want_send;
    int probe;                  /* send the probe message */
    int64_t next_due;           /* ns */
    int64_t t_connect;          /* when the handshake started */
    char *rx;                   /* a message spread over callbacks */
    size_t rx_len, rx_cap;
} conn_t;

typedef struct room {
    char *uuid;
    char *token;
} room_t;

static struct {
    const char *host, *prefix, *rooms_file, *owner_token, *iface;
    int port, mode, closed_loop, concurrency, sockets, text_bytes, evlib;
    double rate, warmup, duration, hold, max_seconds, connect_timeout;
} opt = {
    .host = "127.0.0.1", .prefix = "/ws/chat/", .concurrency = 200,
    .text_bytes = 80, .warmup = 2, .duration = 10, .hold = 5,
    .max_seconds = 120, .connect_timeout = 15,
};

static room_t *rooms;
static int nrooms;
static conn_t *conns;
static int nconns;
static struct lws_context *ctx;
static lws_sorted_usec_list_t tick_sul;
static volatile sig_atomic_t interrupted;
static volatile sig_atomic_t go_probe;       /* SIGUSR1: stop holding */

static struct {
    int next_connect;           /* next conn to start */
    int connecting, opened, failed, closed_unexpected;
    int established_all;        /* the connect phase has ended */
    int64_t t_start, t_connected, t_run, t_measure, t_end, t_deadline;
    int64_t sent, sent_measured, committed, received, errors;
    int64_t late_sends;         /* sends more than a period behind */
    int close_codes[8];         /* 1000..1015 folded: see note_close */
    int holding_printed;
    int64_t probe_start, probe_expected, probe_received;
    int probing;
    int64_t conn_error_samples;
    int64_t t_progress, timed_out;
} S;

static void finish(void);

static double *lat;             /* latency samples, ms */
static size_t nlat, lat_cap;

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "wsload: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(2);
}

/* --- rooms and connections ------------------------------------------- */

static void load_rooms(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[1024];
    int cap = 0;

    if (!f) {
        die("cannot open %s", path);
    }
    while (fgets(line, sizeof(line), f)) {
        char u[256], t[512];

        if (sscanf(line, "%255s %511s", u, t) != 2) {
            continue;
        }
        if (nrooms == cap) {
            cap = cap ? 2 * cap : 256;
            rooms = realloc(rooms, cap * sizeof(*rooms));
        }
        rooms[nrooms].uuid = strdup(u);
        rooms[nrooms].token = strdup(t);
        nrooms++;
    }
    fclose(f);
    if (!nrooms) {
        die("no rooms in %s", path);
    }
}

static void start_connect(conn_t *c)
{
    struct lws_client_connect_info ci;
    char path[1024], host[64];
    const room_t *r = &rooms[c->room];

    if (c->role == ROLE_OWNER) {
        snprintf(path, sizeof(path), "%s%s/?token=%s", opt.prefix, r->uuid,
                 opt.owner_token);
    }
    else {
        snprintf(path, sizeof(path), "%s%s/?visitor=%s", opt.prefix, r->uuid,
                 r->token);
    }
    snprintf(host, sizeof(host), "%s:%d", opt.host, opt.port);
    memset(&ci, 0, sizeof(ci));
    ci.context = ctx;
    ci.address = opt.host;
    ci.port = opt.port;
    ci.path = path;
    ci.host = host;
    ci.origin = host;
    ci.userdata = c;
    ci.pwsi = &c->wsi;
    ci.iface = opt.iface;
    c->state = ST_CONNECTING;
    c->t_connect = now_ns();
    S.connecting++;
    if (!lws_client_connect_via_info(&ci) && c->state == ST_CONNECTING) {
        c->state = ST_FAILED;
        S.connecting--;
        S.failed++;
    }
}

/* --- frames ------------------------------------------------------------ */

static void note_close(int code)
{
    /* 1000, 1001, 1006, 1008, 1009, 1011, 1013, other */
    static const int known[] = { 1000, 1001, 1006, 1008, 1009, 1011, 1013 };
    unsigned int i;

    for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (known[i] == code) {
            S.close_codes[i]++;
            return;
        }
    }
    S.close_codes[7]++;
}

static void add_latency(double ms)
{
    if (nlat == lat_cap) {
        lat_cap = lat_cap ? 2 * lat_cap : 65536;
        lat = realloc(lat, lat_cap * sizeof(*lat));
    }
    lat[nlat++] = ms;
}

/* A complete frame from the relay. Our messages read
 * "b <visitor conn idx> <send ns> <padding>". */
static void on_frame(conn_t *c, const char *buf, size_t len)
{
    const char *m;
    long vidx;
    long long sent_ns;
    int64_t now;

    S.received++;
    if (len >= 8 && memmem(buf, len, "\"type\":\"error\"", 14)) {
        S.errors++;
        c->outstanding = 0;         /* that message will not come back */
        if (S.errors <= 5) {
            fprintf(stderr, "wsload: error frame: %.*s\n", (int)len, buf);
        }
        return;
    }
    m = memmem(buf, len, "\"message\":\"b ", 13);
    if (!m || sscanf(m + 13, "%ld %lld", &vidx, &sent_ns) != 2) {
        return;
    }
    now = now_ns();
    if (S.probing && sent_ns >= S.probe_start) {
        S.probe_received++;
    }
    if (vidx == c->idx) {
        c->outstanding = 0;
    }
    if (c->role == ROLE_OWNER && S.t_measure && sent_ns >= S.t_measure
        && (!S.t_end || sent_ns < S.t_end)) {
        S.committed++;
        add_latency((now - sent_ns) / 1e6);
    }
}

static int write_message(conn_t *c)
{
    static unsigned char buf[LWS_PRE + MAX_TEXT + 64];
    char text[MAX_TEXT];
    int64_t now = now_ns();
    int n, k;

    n = snprintf(text, sizeof(text), "b %d %" PRId64 " ", c->idx, now);
    for (k = 0; n < opt.text_bytes && n < MAX_TEXT - 1; k++) {
        text[n++] = "Your car lights are on near gate 4. "[k % 36];
    }
    text[n] = '\0';
    n = snprintf((char *)buf + LWS_PRE, MAX_TEXT + 64, "{\"message\":\"%s\"}",
                 text);
    if (lws_write(c->wsi, buf + LWS_PRE, (size_t)n, LWS_WRITE_TEXT) < n) {
        return -1;
    }
    S.sent++;
    if (S.t_measure && now >= S.t_measure && now < S.t_end) {
        S.sent_measured++;
    }
    c->outstanding = 1;
    return 0;
}

/* --- the protocol callback --------------------------------------------- */

static int callback(struct lws *wsi, enum lws_callback_reasons reason,
                    void *user, void *in, size_t len)
{
    conn_t *c = (conn_t *)user;

    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (c && c->state == ST_CONNECTING) {
            c->state = ST_FAILED;
            S.connecting--;
            S.failed++;
            if (S.conn_error_samples++ < 3) {
                fprintf(stderr, "wsload: connect failed: %s\n",
                        in ? (char *)in : "?");
            }
        }
        break;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if (c && c->state == ST_CONNECTING) {
            c->state = ST_OPEN;
            S.connecting--;
            S.opened++;
        }
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (!c) {
            break;
        }
        if (lws_is_first_fragment(wsi) && lws_is_final_fragment(wsi)
            && !c->rx_len) {
            on_frame(c, in, len);
            break;
        }
        if (c->rx_len + len > c->rx_cap) {
            c->rx_cap = (c->rx_len + len) * 2;
            c->rx = realloc(c->rx, c->rx_cap);
        }
        memcpy(c->rx + c->rx_len, in, len);
        c->rx_len += len;
        if (lws_is_final_fragment(wsi)
            && !lws_remaining_packet_payload(wsi)) {
            on_frame(c, c->rx, c->rx_len);
            c->rx_len = 0;
        }
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (!c || c->state != ST_OPEN) {
            break;
        }
        if (c->want_send) {
            c->want_send = 0;
            if (write_message(c)) {
                return -1;
            }
        }
        break;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (len >= 2) {
            const unsigned char *b = in;
            note_close(b[0] << 8 | b[1]);
        }
        else {
            note_close(0);
        }
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (c && c->state == ST_OPEN) {
            c->state = ST_CLOSED;
            if (!interrupted) {
                S.closed_unexpected++;
                if (S.closed_unexpected <= 3) {
                    fprintf(stderr, "wsload: socket %d (room %d) closed\n",
                            c->idx, c->room);
                }
            }
        }
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    { "wsload", callback, 0, 4096, 0, NULL, 0 },
    { NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* --- the clock --------------------------------------------------------- */

static void start_probe(int64_t now)
{
    int r, i, probed = 0;

    S.probing = 1;
    S.probe_start = now;
    for (r = 0; r < nrooms && probed < PROBE_ROOMS; r++) {
        int first = -1, open = 0;

        for (i = r; i < nconns; i += nrooms) {  /* round robin layout */
            if (conns[i].room == r && conns[i].state == ST_OPEN) {
                open++;
                if (first < 0) {
                    first = i;
                }
            }
        }
        if (first >= 0) {
            conns[first].want_send = 1;
            lws_callback_on_writable(conns[first].wsi);
            S.probe_expected += open;
            probed++;
        }
    }
}

static void tick(lws_sorted_usec_list_t *sul)
{
    int64_t now = now_ns();
    int i, started = 0;

    (void)sul;
    if (now > S.t_deadline) {
        fprintf(stderr, "wsload: --max-seconds reached\n");
        interrupted = 1;
    }
    /* A handshake with no answer after --connect-timeout (a server with
     * no free worker accepts and never answers) counts as timed out; the
     * socket is left to lws (it closes with the process). */
    if (S.connecting && now - S.t_progress > 100000000LL) {
        int64_t limit = (int64_t)(opt.connect_timeout * 1e9);

        S.t_progress = now;
        for (i = 0; i < S.next_connect; i++) {
            if (conns[i].state == ST_CONNECTING
                && now - conns[i].t_connect > limit) {
                conns[i].state = ST_FAILED;
                S.connecting--;
                S.timed_out++;
            }
        }
    }
    /* the connect phase */
    while (S.next_connect < nconns && S.connecting < opt.concurrency
           && started < 500) {
        start_connect(&conns[S.next_connect++]);
        started++;
    }
    if (!S.established_all && S.next_connect == nconns && !S.connecting) {
        S.established_all = 1;
        S.t_connected = now;
        fprintf(stderr, "wsload: %d open, %d failed, %d timed out in %.1f "
                "s\n", S.opened, S.failed, (int)S.timed_out,
                (now - S.t_start) / 1e9);
        if (opt.mode == MODE_HOLD) {
            printf("HOLDING %d\n", S.opened);
            fflush(stdout);
        }
        else {
            S.t_run = now;
            S.t_measure = now + (int64_t)(opt.warmup * 1e9);
            S.t_end = S.t_measure + (int64_t)(opt.duration * 1e9);
        }
    }
    if (S.established_all && opt.mode == MODE_RATE && !interrupted) {
        double per = opt.rate / (nconns / (opt.owner_token ? 2 : 1));
        int64_t period = (int64_t)(1e9 / per);
        int nvis = 0;

        for (i = 0; i < nconns; i++) {
            conn_t *c = &conns[i];

            if (c->role != ROLE_VISITOR) {
                continue;
            }
            if (!c->next_due) {     /* spread the first sends */
                c->next_due = S.t_run + (int64_t)((double)period * nvis
                                                  / (opt.rate / per));
            }
            nvis++;
            if (c->state != ST_OPEN || now < c->next_due || c->want_send
                || (opt.closed_loop && c->outstanding)) {
                continue;
            }
            c->want_send = 1;
            lws_callback_on_writable(c->wsi);
            c->next_due += period;
            if (c->next_due < now - period) {   /* never catch up in bursts */
                S.late_sends++;
                c->next_due = now;
            }
        }
        if (now > S.t_end + 2000000000LL) {     /* 2 s for stragglers */
            interrupted = 1;
        }
    }
    if (S.established_all && opt.mode == MODE_HOLD && !interrupted) {
        if (!S.probing && (go_probe
                           || now > S.t_connected
                                    + (int64_t)(opt.hold * 1e9))) {
            start_probe(now);
        }
        else if (S.probing && (S.probe_received >= S.probe_expected
                               || now > S.probe_start + 5000000000LL)) {
            interrupted = 1;
        }
    }
    if (interrupted) {
        finish();
    }
    lws_sul_schedule(ctx, 0, &tick_sul, tick, 1000);
}

/* --- main -------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double pct(double p)
{
    size_t i;

    if (!nlat) {
        return -1;
    }
    i = (size_t)(p / 100.0 * (double)(nlat - 1) + 0.5);
    return lat[i < nlat ? i : nlat - 1];
}

/* Prints the summary and exits: the sockets close with the process (an
 * event library's loop would not return to main() by itself). */
static void finish(void)
{
    int i;
    {
        int still_open = 0;
        for (i = 0; i < nconns; i++) {
            still_open += conns[i].state == ST_OPEN;
        }
        qsort(lat, nlat, sizeof(*lat), cmp_double);
        printf("{\"mode\":\"%s\",\"rooms\":%d,\"sockets\":%d,\"opened\":%d,"
               "\"failed\":%d,\"timed_out\":%" PRId64 ",\"open_at_end\":%d,"
               "\"closed_unexpected\":%d,"
               "\"connect_s\":%.3f,\"sent\":%" PRId64 ",\"sent_measured\":%"
               PRId64 ",\"committed\":%" PRId64 ",\"measure_s\":%.3f,"
               "\"committed_per_s\":%.1f,\"sent_per_s\":%.1f,"
               "\"received\":%" PRId64 ",\"error_frames\":%" PRId64 ","
               "\"late_sends\":%" PRId64 ","
               "\"lat_ms\":{\"n\":%zu,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,"
               "\"p999\":%.3f,\"max\":%.3f},"
               "\"probe_expected\":%" PRId64 ",\"probe_received\":%" PRId64
               ",\"close_codes\":{\"1000\":%d,\"1001\":%d,\"1006\":%d,"
               "\"1008\":%d,\"1009\":%d,\"1011\":%d,\"1013\":%d,\"other\":%d}"
               "}\n",
               opt.mode == MODE_HOLD ? "hold" : "rate", nrooms, nconns,
               S.opened, S.failed, S.timed_out, still_open,
               S.closed_unexpected,
               S.t_connected ? (S.t_connected - S.t_start) / 1e9 : -1.0,
               S.sent, S.sent_measured, S.committed, opt.duration,
               opt.duration > 0 ? S.committed / opt.duration : 0.0,
               opt.duration > 0 ? S.sent_measured / opt.duration : 0.0,
               S.received, S.errors, S.late_sends, nlat, pct(50), pct(90),
               pct(99), pct(99.9), nlat ? lat[nlat - 1] : -1.0,
               S.probe_expected, S.probe_received,
               S.close_codes[0], S.close_codes[1], S.close_codes[2],
               S.close_codes[3], S.close_codes[4], S.close_codes[5],
               S.close_codes[6], S.close_codes[7]);
        fflush(stdout);
    }
    _exit(0);
}

static void on_signal(int sig)
{
    if (sig == SIGUSR1) {
        go_probe = 1;
    }
    else {
        interrupted = 1;
    }
}

static void usage(void)
{
    fprintf(stderr, "usage: wsload --port P --rooms FILE [--host 127.0.0.1]"
            " [--prefix /ws/chat/] [--owner-token JWT] --mode rate|hold\n"
            "  rate: --rate R [--closed-loop] [--warmup S] [--duration S]"
            " [--text-bytes N]\n"
            "  hold: --sockets N [--hold S]\n"
            "  [--concurrency N] [--iface ADDR] [--max-seconds S] [--libev]"
            " [--connect-timeout S]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    struct lws_context_creation_info info;
    struct rlimit rl;
    int i, nvis;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

#define ARG(name) (strcmp(a, name) == 0 && v && ++i)
        if (ARG("--host")) opt.host = v;
        else if (ARG("--port")) opt.port = atoi(v);
        else if (ARG("--prefix")) opt.prefix = v;
        else if (ARG("--rooms")) opt.rooms_file = v;
        else if (ARG("--owner-token")) opt.owner_token = v;
        else if (ARG("--iface")) opt.iface = v;
        else if (ARG("--mode")) opt.mode = strcmp(v, "hold") == 0
                                           ? MODE_HOLD : MODE_RATE;
        else if (ARG("--rate")) opt.rate = atof(v);
        else if (ARG("--warmup")) opt.warmup = atof(v);
        else if (ARG("--duration")) opt.duration = atof(v);
        else if (ARG("--hold")) opt.hold = atof(v);
        else if (ARG("--sockets")) opt.sockets = atoi(v);
        else if (ARG("--concurrency")) opt.concurrency = atoi(v);
        else if (ARG("--text-bytes")) opt.text_bytes = atoi(v);
        else if (ARG("--max-seconds")) opt.max_seconds = atof(v);
        else if (ARG("--connect-timeout")) opt.connect_timeout = atof(v);
        else if (strcmp(a, "--closed-loop") == 0) opt.closed_loop = 1;
        else if (strcmp(a, "--libev") == 0) opt.evlib = 1;
        else usage();
#undef ARG
    }
    if (!opt.port || !opt.rooms_file
        || (opt.mode == MODE_RATE && opt.rate <= 0)
        || (opt.mode == MODE_HOLD && opt.sockets <= 0)) {
        usage();
    }
    if (strncmp(opt.host, "127.", 4) != 0) {
        die("refusing %s: loopback (127.x.x.x) only", opt.host);
    }
    load_rooms(opt.rooms_file);
    if (opt.mode == MODE_RATE) {
        nconns = nrooms * (opt.owner_token ? 2 : 1);
    }
    else {
        nconns = opt.sockets;
    }
    conns = calloc(nconns, sizeof(*conns));
    /* rate: visitors 0..nrooms-1, then the owners; hold: round robin */
    for (i = 0, nvis = 0; i < nconns; i++) {
        conns[i].idx = i;
        conns[i].room = i % nrooms;
        conns[i].role = (opt.mode == MODE_RATE && i >= nrooms)
                        ? ROLE_OWNER : ROLE_VISITOR;
        nvis += conns[i].role == ROLE_VISITOR;
    }
    (void)nvis;

    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if ((rlim_t)nconns + 64 > rl.rlim_cur) {
        fprintf(stderr, "wsload: %d sockets need more than RLIMIT_NOFILE %lu"
                "\n", nconns, (unsigned long)rl.rlim_cur);
        return 2;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGUSR1, on_signal);
    signal(SIGPIPE, SIG_IGN);
    lws_set_log_level(LLL_ERR, NULL);

    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.fd_limit_per_thread = (unsigned int)rl.rlim_cur;
    info.count_threads = 1;
    if (opt.evlib) {
        /* epoll through libev (lws's evlib_ev plugin): lws's own poll()
         * over thousands of sockets costs more than the load it makes */
        info.options |= LWS_SERVER_OPTION_LIBEV;
    }

    ctx = lws_create_context(&info);
    if (!ctx) {
        die("%s", "lws_create_context failed");
    }
    S.t_start = now_ns();
    S.t_deadline = S.t_start + (int64_t)(opt.max_seconds * 1e9);
    lws_sul_schedule(ctx, 0, &tick_sul, tick, 1);
    while (!interrupted) {
        if (lws_service(ctx, 0) < 0) {
            break;
        }
    }
    finish();
    lws_context_destroy(ctx);
    return 0;
}
