/* ci_util: small helpers of the core: ids, time, random tokens, parsing. */
#ifndef mod_carinfo_ci_util_h
#define mod_carinfo_ci_util_h

#include <apr_pools.h>
#include <apr_time.h>

#define CI_UUID_LEN 36

/* A random (version 4) UUID in canonical lower case, allocated from `p`.
 * Uses the system CSPRNG; returns NULL only if the CSPRNG fails. */
const char *ci_uuid4(apr_pool_t *p);

/* A time-ordered (version 7, RFC 9562) UUID for the time `usec` (Unix
 * microseconds): 48 bits of milliseconds, 12 bits of the fraction of the
 * millisecond, 62 random bits. Ids made later sort later as text, so an
 * index on them grows at its end instead of touching a random page per
 * insert. NULL when the CSPRNG fails or usec is negative. */
const char *ci_uuid7(apr_pool_t *p, apr_int64_t usec);

/* The same, with the random bits taken from `rnd` (8 bytes from the
 * CSPRNG): for callers that draw them for many ids at once. NULL when
 * usec is negative. */
const char *ci_uuid7_with(apr_pool_t *p, apr_int64_t usec,
                          const unsigned char *rnd);

/* If `s` is a UUID (any case, canonical 8-4-4-4-12 form) returns it in lower
 * case from `p`; otherwise NULL. */
const char *ci_uuid_normalize(apr_pool_t *p, const char *s);

/* `n` random bytes from the system CSPRNG as lower-case hex (2n chars) from
 * `p`; NULL if the CSPRNG fails. */
const char *ci_random_hex(apr_pool_t *p, apr_size_t n);

/* Microseconds since the epoch (the store's time unit). */
apr_int64_t ci_now_usec(void);

/* ISO 8601 UTC with 'Z', as Django REST framework prints it: microseconds
 * are shown only when non-zero ("2026-02-05T11:06:00Z",
 * "2026-02-05T11:06:00.250000Z"). From `p`. */
const char *ci_time_iso(apr_pool_t *p, apr_int64_t usec);

/* Strict decimal parse of the whole string (optional '-' sign, no spaces,
 * no '+', no leading zeros beyond "0"). Returns 0 on success, -1 otherwise. */
int ci_parse_int64(const char *s, apr_int64_t *out);

/* Whether buf[0..len) is well-formed UTF-8 (no overlongs, no surrogates). */
int ci_utf8_valid(const char *buf, apr_size_t len);

/* Number of code points of a well-formed UTF-8 string. */
apr_size_t ci_utf8_len(const char *s);

/* Whether `s` is empty or only white space. */
int ci_is_blank(const char *s);

/* Constant-time comparison of two equal-length buffers; 1 when equal. */
int ci_ct_equal(const void *a, const void *b, apr_size_t len);

/* Overwrites, in place and with '*', the password of a DBDParams string:
 * libpq's `password=value` (quoted or not, with \ escapes), and in a
 * postgresql:// URI the `user:password@` and a `password=` query value. For a copy of the parameters
 * kept in argv, which anyone can read in ps. The length stays; returns the
 * number of characters hidden. */
apr_size_t ci_conninfo_hide_password(char *s);

/* DBDParams given on a command line: a copy from `p`, after the password
 * in `arg` itself (argv's memory, what ps shows) is hidden. */
const char *ci_conninfo_from_argv(apr_pool_t *p, char *arg);

#endif /* mod_carinfo_ci_util_h */
