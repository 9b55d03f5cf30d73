/* ci_password: password hashes.
 *
 * New hashes are bcrypt ($2y$, apr-util's apr_bcrypt_encode, as htpasswd
 * writes them). Verification re-computes the hash (libxcrypt's crypt_rn)
 * and compares in constant time. Hashes of Django users
 * (pbkdf2_sha256$iterations$salt$hash) verify too, and are flagged for
 * re-hashing, so a deployment can move its users from the old backend.
 */
#ifndef mod_carinfo_ci_password_h
#define mod_carinfo_ci_password_h

#include <apr_pools.h>

#define CI_PASSWORD_MIN_COST 4
#define CI_PASSWORD_MAX_COST 17

/* A new bcrypt hash of `pw` at `cost` from `p`; NULL if the CSPRNG or the
 * hash failed. */
const char *ci_password_hash(apr_pool_t *p, const char *pw, int cost);

/* 1 when `pw` matches `stored`, 0 otherwise (also for unknown formats).
 * *rehash (may be NULL) is set to 1 when the hash is not bcrypt. */
int ci_password_verify(apr_pool_t *p, const char *pw, const char *stored,
                       int *rehash);

/* Spends the time of one verification at `cost` and answers nothing: used
 * for unknown accounts, so that a login takes as long either way. */
void ci_password_burn(apr_pool_t *p, const char *pw, int cost);

#endif /* mod_carinfo_ci_password_h */
