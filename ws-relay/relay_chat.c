/* relay_chat.c: the "carinfo-chat" protocol slot (see relay_chat.h).
 *
 * A skeleton in the shape of the lws minimal examples: per-vhost data made
 * in PROTOCOL_INIT, per-session data per socket. The rooms, the ring and
 * the authentication come with the chat issue; until then every upgrade is
 * refused in LWS_CALLBACK_HTTP_CONFIRM_UPGRADE.
 */
#include <libwebsockets.h>

#include "ci_log.h"
#include "relay.h"
#include "relay_chat.h"
#include "relay_log.h"

/* Per-vhost data. */
struct chat_vhd {
    struct lws_context *context;
    struct lws_vhost *vhost;
    ci_relay_t *relay;
};

/* Per-session data: one WebSocket. */
struct chat_pss {
    struct lws *wsi;
};

/* Refuses an upgrade: lws answers 404 and closes. */
static int refuse_upgrade(struct lws *wsi)
{
    char uri[256], esc[256];

    if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) < 0) {
        uri[0] = '\0';
    }
    ci_log_perror(CI_LOG_MARK, CI_LOG_DEBUG, APR_SUCCESS, NULL,
                  CILOGNO(10515) "WebSocket upgrade for %s refused: the "
                  "chat protocol is not available yet",
                  ci_relay_log_escape(esc, sizeof(esc), uri));
    if (lws_return_http_status(wsi, HTTP_STATUS_NOT_FOUND, NULL)) {
        return -1;
    }
    return 1;
}

static int chat_callback(struct lws *wsi, enum lws_callback_reasons reason,
                         void *user, void *in, size_t len)
{
    struct chat_pss *pss = user;
    struct chat_vhd *vhd;

    vhd = lws_protocol_vh_priv_get(lws_get_vhost(wsi),
                                   lws_get_protocol(wsi));
    switch (reason) {
    case LWS_CALLBACK_PROTOCOL_INIT:
        vhd = lws_protocol_vh_priv_zalloc(lws_get_vhost(wsi),
                                          lws_get_protocol(wsi),
                                          sizeof(*vhd));
        if (!vhd) {
            return -1;
        }
        vhd->context = lws_get_context(wsi);
        vhd->vhost = lws_get_vhost(wsi);
        vhd->relay = lws_context_user(vhd->context);
        return 0;
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
        /* `in` is the Upgrade header's value; `user` is not allocated. */
        return refuse_upgrade(wsi);
    case LWS_CALLBACK_ESTABLISHED:
        if (!pss || !vhd) {
            return -1;
        }
        pss->wsi = wsi;
        vhd->relay->nsockets++;
        return 0;
    case LWS_CALLBACK_CLOSED:
        if (pss && pss->wsi && vhd) {
            vhd->relay->nsockets--;
        }
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

const struct lws_protocols ci_relay_chat_protocol = {
    .name = CI_RELAY_CHAT_PROTOCOL,
    .callback = chat_callback,
    .per_session_data_size = sizeof(struct chat_pss),
};
