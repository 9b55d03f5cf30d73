/* relay_notify.c: the unix datagram notify socket (see relay_notify.h). */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <libwebsockets.h>

#include "ci_chat.h"
#include "ci_log.h"
#include "relay.h"
#include "relay_log.h"
#include "relay_room.h"
#include "relay_notify.h"

#define MAX_PER_RX 256              /* datagrams per RX callback */

static apr_status_t fill_addr(const char *path, struct sockaddr_un *sa)
{
    if (strlen(path) >= sizeof(sa->sun_path)) {
        return APR_ENAMETOOLONG;
    }
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    memcpy(sa->sun_path, path, strlen(path));
    return APR_SUCCESS;
}

/* Removes a socket file nobody reads any more. APR_EEXIST when `path` is
 * not a socket or a live process still reads it; *what says which. */
static apr_status_t remove_stale(const char *path,
                                 const struct sockaddr_un *sa,
                                 const char **what)
{
    struct stat st;
    int fd, live;

    if (lstat(path, &st) != 0) {
        return errno == ENOENT ? APR_SUCCESS : errno;
    }
    if (!S_ISSOCK(st.st_mode)) {
        *what = "it exists and is not a socket";
        return APR_EEXIST;
    }
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return errno;
    }
    live = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0;
    close(fd);
    if (live) {
        *what = "another process reads it (is another relay running?)";
        return APR_EEXIST;
    }
    *what = "cannot remove the stale socket";
    return unlink(path) == 0 || errno == ENOENT ? APR_SUCCESS : errno;
}

apr_status_t ci_relay_notify_open(ci_relay_t *relay, uid_t uid, gid_t gid)
{
    const char *path = relay->conf->notify_socket;
    const char *what = "the path is too long";
    struct sockaddr_un sa;
    apr_status_t rv;
    int fd = -1;

    rv = fill_addr(path, &sa);
    if (rv == APR_SUCCESS) {
        rv = remove_stale(path, &sa, &what);
    }
    if (rv == APR_SUCCESS) {
        what = "cannot bind";
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
            rv = errno;
        }
    }
    if (rv == APR_SUCCESS) {
        relay->notify_bound = 1;
        what = "cannot set its owner and mode";
        if (uid != (uid_t)-1 ? chown(path, uid, gid) || chmod(path, 0660)
                             : chmod(path, 0666)) {
            rv = errno;
        }
    }
    if (rv != APR_SUCCESS) {
        ci_log_perror(CI_LOG_MARK, CI_LOG_ERR, rv, NULL,
                      CILOGNO(10543) "--notify-socket %s: %s", path,
                      what);
        if (fd >= 0) {
            close(fd);
        }
        ci_relay_notify_close(relay);
        return rv;
    }
    relay->notify_fd = fd;
    return APR_SUCCESS;
}

apr_status_t ci_relay_notify_start(ci_relay_t *relay)
{
    lws_sock_file_fd_type u;
    struct lws *wsi;

    if (relay->notify_fd < 0) {
        return APR_SUCCESS;
    }
    u.filefd = relay->notify_fd;
    wsi = lws_adopt_descriptor_vhost(relay->vhost, LWS_ADOPT_RAW_FILE_DESC,
                                     u, CI_RELAY_NOTIFY_PROTOCOL, NULL);
    if (!wsi) {
        relay->notify_fd = -1;          /* lws closed it */
        ci_log_perror(CI_LOG_MARK, CI_LOG_ERR, APR_SUCCESS, NULL,
                      CILOGNO(10544) "cannot add the notify socket %s to "
                      "the event loop", relay->conf->notify_socket);
        return APR_EGENERAL;
    }
    relay->notify_adopted = 1;
    ci_log_perror(CI_LOG_MARK, CI_LOG_DEBUG, APR_SUCCESS, NULL,
                  CILOGNO(10545) "reading notifications on %s",
                  relay->conf->notify_socket);
    return APR_SUCCESS;
}

void ci_relay_notify_close(ci_relay_t *relay)
{
    const char *path = relay->conf->notify_socket;

    if (relay->notify_fd >= 0 && !relay->notify_adopted) {
        close(relay->notify_fd);        /* never adopted */
    }
    relay->notify_fd = -1;
    if (relay->notify_bound && unlink(path) != 0 && errno != ENOENT) {
        ci_log_perror(CI_LOG_MARK, CI_LOG_INFO, errno, NULL,
                      CILOGNO(10546) "cannot remove the notify socket %s",
                      path);
    }
    relay->notify_bound = 0;
}

/* Reads the datagrams waiting, at most MAX_PER_RX (poll calls again). */
static void read_datagrams(ci_relay_t *relay, int fd)
{
    apr_int64_t room_id, msg_id;
    char buf[64];
    ssize_t n;
    int i;

    for (i = 0; i < MAX_PER_RX; i++) {
        n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                ci_log_perror(CI_LOG_MARK, CI_LOG_DEBUG, errno, NULL,
                              CILOGNO(10547) "reading the notify socket");
            }
            return;
        }
        buf[n] = '\0';
        if (ci_chat_notify_parse(buf, &room_id, &msg_id)) {
            ci_log_perror(CI_LOG_MARK, CI_LOG_DEBUG, APR_SUCCESS, NULL,
                          CILOGNO(10548) "ignoring a malformed notification "
                          "(%d bytes)", (int)n);
            continue;
        }
        ci_relay_room_notify(relay, room_id, msg_id);
    }
}

static int notify_callback(struct lws *wsi, enum lws_callback_reasons reason,
                           void *user, void *in, size_t len)
{
    ci_relay_t *relay = lws_context_user(lws_get_context(wsi));

    switch (reason) {
    case LWS_CALLBACK_RAW_ADOPT_FILE:
        return 0;
    case LWS_CALLBACK_RAW_RX_FILE:
        read_datagrams(relay, lws_get_socket_fd(wsi));
        return 0;
    case LWS_CALLBACK_RAW_CLOSE_FILE:
        if (!relay->stopping) {
            ci_log_perror(CI_LOG_MARK, CI_LOG_ERR, APR_SUCCESS, NULL,
                          CILOGNO(10549) "the notify socket %s was closed: "
                          "REST messages reach sockets here only through "
                          "clients' ?since= until the relay restarts",
                          relay->conf->notify_socket);
        }
        relay->notify_fd = -1;
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

const struct lws_protocols ci_relay_notify_protocol = {
    .name = CI_RELAY_NOTIFY_PROTOCOL,
    .callback = notify_callback,
};
