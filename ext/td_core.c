/*
 * tiledesk.core: a libcurl client userdata for the tiledesk Lua SDK.
 *
 * C moves bytes: it validates a request, applies the credentials it holds, runs a single call
 * with curl_easy_perform (or, beside transfers in flight, on a multi handle that drives them
 * too), many in flight on a multi handle of their own, and hands back status, headers and
 * body. It never decodes JSON, never calls Lua from a libcurl callback (sinks are called
 * between multi steps) and never raises while libcurl is running or while it holds memory that
 * only a local variable knows about.
 *
 * A call goes through three phases: (1) read and validate the request table (may raise;
 * changes nothing), (2) configure a transfer with one setter per option family and run it
 * (nothing raises, nothing allocates Lua memory), (3) build the results under lua_pcall.
 */
#define _POSIX_C_SOURCE 200809L

#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "td_buf.h"
#include "td_compat.h"

#define TD_VERSION "0.1.0"
#define TD_CLIENT_MT "tiledesk.Client"
#define TD_DEFAULT_MAX_BODY ((curl_off_t)64 * 1024 * 1024)
#define TD_SINK_CHUNK ((size_t)64 * 1024) /* a sink's buffer: the transfer pauses beyond it */
#define TD_SINK_ERR_MAX 200

enum { TD_AUTH_NONE = 0, TD_AUTH_BASIC = 1, TD_AUTH_JWT = 2 };
enum { TD_SEND_CREDENTIALS = 0, TD_SEND_NONE, TD_SEND_SIGNIN, TD_SEND_HEADER };
enum { TD_X_IDLE = 0, TD_X_RUNNING, TD_X_DONE };
/* The state an easy handle is left in. NONE: it is reset and set up in full before its next
   request. The others: its options are those of a plain GET without a sink (nothing but what
   every request sets), for a single transfer (HTTP/1.1) or one of many (HTTP/2 over TLS where
   the server offers it, waiting for a multiplexed connection), so that a GET after a GET only
   sets what changes: URL, timeouts and, when they differ, the headers. */
enum { TD_CONF_NONE = 0, TD_CONF_SINGLE, TD_CONF_MANY_HTTP, TD_CONF_MANY_HTTPS };
/* raw_headers: false (a headers table), true (the block), "non2xx" (the block, but false in its
   place for a 2xx: the caller reads no header of one) */
enum { TD_RAW_NO = 0, TD_RAW_YES, TD_RAW_NON2XX };

/* One transfer: an easy handle and everything it points to, kept alive until its result is
   taken. A client owns as many as it has in flight (one for a plain perform). */
typedef struct td_xfer {
  CURL *easy;
  struct curl_slist *slist; /* request headers, kept for the next request with the same ones;
                               every line is wiped before it is freed */
  td_buf sig;               /* the caller's header lines the slist was built from (wiped) */
  int sig_mode;             /* ... with this send mode */
  int sig_body;             /* ... for a request with a body (or not) */
  unsigned sig_gen;         /* ... and these credentials (td_client.auth_gen) */
  int conf;                 /* what the easy handle is set up for (TD_CONF_*) */
  int prereq;               /* td_on_prereq is set: the request is sent at most once */
  char errbuf[CURL_ERROR_SIZE];
  td_buf body;              /* response body, or a sink's pending chunk */
  td_buf head;              /* header lines of the last response ("HTTP/..." resets it) */
  td_buf out;               /* the request body (POSTFIELDS points here); wiped when reused */
  td_buf label;             /* "METHOD url" without query or fragment, for messages */
#if LIBCURL_VERSION_NUM >= 0x073f00
  CURLU *cu;                /* that URL parsed, handed over as CURLOPT_CURLU (NULL: not made yet) */
#endif
  td_buf url;               /* the URL the easy handle holds (empty: none since its reset), and
                               the one label was made with */
  long timeout_ms, connect_ms; /* the timeouts the easy handle holds (-1: none since its reset) */
  td_buf sinkerr;           /* what a failed sink said */
  curl_off_t max_body;
  CURLcode rc;
  long status;              /* from the last status line */
  int state, id;
  int slot;                 /* its index in td_client.xs plus one (0: the solo transfer) */
  int tagged;               /* start was given a tag: it waits at key slot of the tags table */
  int many_i;               /* its index in the URLs of run_many (0: not one of those) */
  int many;                 /* in the multi handle of many in flight (start), not of single ones */
  int once;                 /* at most once: libcurl may not send it a second time */
  int sends;                /* times libcurl was about to send the request */
  int resend_refused;       /* libcurl wanted to send it again and was stopped */
  int sock_errno;           /* errno of a failed socket() */
  int sink, sink_failed, paused;
  int too_large, head_done;
  long ct_at;               /* where the first Content-Type line starts in head (-1: none yet) */
  int raw_head;             /* results carry the header block unparsed, and the content type
                               (TD_RAW_*) */
} td_xfer;

struct td_client;
/* What a multi handle's socket and timer callbacks are given: the client, and which handle. */
typedef struct td_mref {
  struct td_client *c;
  int k;
} td_mref;

typedef struct td_client {
  /* Single calls made while nothing of many is in flight run on a transfer of their own (solo),
     driven by curl_easy_perform: libcurl's own multi handle for one easy handle, whose caches
     (connections, DNS) are a few slots, not the dozens a multi handle's walks on every transfer.
     It is never added to a multi handle, so its keep-alive connection stays its own.
     Two multi handles hold the other connection caches: [0] single transfers made while many are
     in flight (perform drives those too), [1] many in flight (start/wait: HTTP/2 over TLS where
     the server offers it). Each is made on first use. Apart, a single call's HTTP/1.1 connection
     never keeps a batch from multiplexing. */
  td_xfer *solo;
  CURLM *multi[2];
  int running[2];           /* transfers in each */
  long many_cap;            /* the connection cache size set on multi[1] (0: libcurl's default) */
  /* The sockets libcurl asks to watch, of both multi handles (td_on_socket): pfd[i] for poll,
     pk[i] the handle it belongs to; ready/readyk: those poll found ready, copied out before
     libcurl acts on them (which changes pfd). All four have room for cap entries. */
  struct pollfd *pfd, *ready;
  unsigned char *pk, *readyk;
  int npfd, cap_pfd;
  double timer_at[2];       /* when each handle's next timeout falls, on td_clock_ms (< 0: none) */
  td_mref mref[2];
  td_xfer **xs;             /* transfer slots, reused */
  int nxs, next_id;
  td_buf scratch;           /* composing the Authorization value; wiped after use */
  td_buf hsig;              /* the header lines of the request being read ("Name: value\0"...); wiped */
  int hkept;                /* hsig holds the lines of the hkept names and string values kept in the
                               user value at keys -1, -2, ... (name, value, name, value...), which no
                               authorization, proxy-authorization, cookie and no number are among;
                               -1: none kept */
  int hkept_ua, hkept_ae;   /* ... with a User-Agent, an Accept-Encoding among them */
  int hkept_slots;          /* the pairs of keys in the user value that hold something */
  unsigned auth_gen;        /* changes with the credentials: header lists built before are stale */
  char *email, *password, *token; /* malloc'd copies, wiped when replaced or closed */
  int mode;                 /* TD_AUTH_BASIC or TD_AUTH_JWT: what the credentials are for */
  char *user_agent, *cafile, *capath, *proxy;
  char *ua_line;            /* "User-Agent: <user_agent>" */
  int no_proxy;             /* proxy = false: ignore http_proxy and friends */
  int ssl_verify;
  long timeout_ms, connect_timeout_ms;
  curl_off_t max_body;
  char ctype[64];           /* the last Content-Type pushed (td_push_ctype) */
  size_t ctype_len;         /* ... its length ((size_t)-1: none) */
  int busy;                 /* C is running transfers or building results for this client */
  int closed;               /* td_release ran: every method but close/is_closed raises */
} td_client;

/* A request as read from its Lua table (phase 1). The strings stay anchored on the stack. */
typedef struct td_spec {
  const char *method, *url, *body;
  size_t mlen, ulen, blen;
  long timeout_ms, connect_ms;
  int send_mode, once, sink;
  int many; /* one of many in flight (start), not a single transfer (perform) */
  int solo; /* a single transfer on the solo slot, run by curl_easy_perform (nothing in flight) */
  int own_ua, own_ae; /* the caller's headers carry a User-Agent, an Accept-Encoding */
  int raw_head;       /* raw_headers: the header block is handed back unparsed (TD_RAW_*) */
  int sink_slot;      /* the stack slot of the sink (or nil) */
} td_spec;

static int td_global_ready = 0;

/* The content codings this libcurl decodes, as it would list them itself, set as
   CURLOPT_ACCEPT_ENCODING, which makes it decode any of them a response comes in. The request
   asks for one, in one of our header lines (cheaper for libcurl than composing its own): gzip,
   which every server and proxy that compresses speaks, or the first it has when it has no zlib.
   One coding, not the list: libcurl formats header lines a byte at a time, at about 90
   instructions a byte, on every request. NULL: none (curl_version_info found no decoder). */
static const char *td_codings = NULL;
static char td_codings_buf[64];
static char td_ae_line[96];

static void td_find_codings(void) {
  const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
  td_codings_buf[0] = '\0';
  if (v->features & CURL_VERSION_LIBZ) strcat(td_codings_buf, "deflate, gzip");
#ifdef CURL_VERSION_BROTLI
  if (v->features & CURL_VERSION_BROTLI) strcat(td_codings_buf, td_codings_buf[0] ? ", br" : "br");
#endif
#ifdef CURL_VERSION_ZSTD
  if (v->features & CURL_VERSION_ZSTD) strcat(td_codings_buf, td_codings_buf[0] ? ", zstd" : "zstd");
#endif
  if (td_codings_buf[0]) {
    td_codings = td_codings_buf;
    snprintf(td_ae_line, sizeof td_ae_line, "Accept-Encoding: %.*s", (int)strcspn(td_codings_buf, ","),
             (v->features & CURL_VERSION_LIBZ) ? "gzip" : td_codings_buf);
  }
}

/* ---------- small helpers ---------- */

static void td_free_secret(char **p) {
  if (*p) {
    td_wipe(*p, strlen(*p));
    free(*p);
    *p = NULL;
  }
}

static char *td_strdup(const char *s, size_t n) {
  char *d = (char *)malloc(n + 1);
  if (d) {
    memcpy(d, s, n);
    d[n] = '\0';
  }
  return d;
}

/* CR, LF or NUL: what would split a line or cut a C string. */
static int td_has_crlfnul(const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0') return 1;
  return 0;
}

/* Where the first 8-byte word of s holding a byte below `below` (at most 0x80) or DEL starts; the
   bytes before it hold none (n rounded down to a word when no word holds one). Each word is
   tested at once for both (URLs and header values are checked on every request). */
static size_t td_clean_words(const char *s, size_t n, unsigned below) {
  const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w, d;
    memcpy(&w, s + i, 8);
    d = w ^ (ones * 0x7f);
    if ((((w - ones * below) & ~w) | ((d - ones) & ~d)) & highs) break;
  }
  return i;
}

/* A field value (RFC 9110 5.5): no control byte but HTAB, no DEL (a word holding one is looked
   at byte by byte: a tab passes). */
static int td_bad_field_value(const char *s, size_t n) {
  size_t i = td_clean_words(s, n, 0x20);
  for (; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((c < 0x20 && c != '\t') || c == 0x7f) return 1;
  }
  return 0;
}

/* ASCII case-insensitive comparison of n bytes (header names). */
static int td_strncaseeq(const char *a, const char *b, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) {
    unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
    if (x >= 'A' && x <= 'Z') x = (unsigned char)(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = (unsigned char)(y - 'A' + 'a');
    if (x != y) return 0;
  }
  return 1;
}

static double td_clock_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1.0e6;
}

/* The client at idx. The methods carry the metatable as their upvalue: comparing with it costs
   less than luaL_checkudata's registry lookup, which stays for the message of a wrong value. */
static td_client *td_check(lua_State *L, int idx) {
  td_client *c = (td_client *)lua_touserdata(L, idx);
  int ok = c != NULL && lua_getmetatable(L, idx);
  if (ok) {
    ok = lua_rawequal(L, -1, lua_upvalueindex(1));
    lua_pop(L, 1);
  }
  if (!ok) c = (td_client *)luaL_checkudata(L, idx, TD_CLIENT_MT);
  if (c->closed) luaL_error(L, "tiledesk.Client is closed");
  return c;
}

static void td_check_idle(lua_State *L, td_client *c, const char *doing) {
  if (c->busy) luaL_error(L, "tiledesk.Client is busy (%s from inside a call on the same client)", doing);
}

/* ---------- option tables: every message names the option ---------- */

/* Raises unless every key of the table at idx is one of the names. */
static void td_check_keys(lua_State *L, int idx, const char *const *names, const char *what) {
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    const char *k;
    int i, ok = 0;
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "%s: option names must be strings", what);
    k = lua_tostring(L, -1);
    for (i = 0; names[i] && !ok; i++)
      if (k[0] == names[i][0] && strcmp(k, names[i]) == 0) ok = 1;
    if (!ok) luaL_error(L, "%s: unknown option '%s'", what, k);
  }
}

/* The option helpers below read field `field` of the table at idx, or, when idx is TD_SLOT(i),
   the value already at stack slot i (gathered by td_gather: one walk of the table instead of a
   lookup per option; or an argument of c:send). td_opt_at returns where the value is: slot i
   itself (nothing pushed), or the top, where the field was pushed. */
#define TD_SLOT(i) (-(i))
static int td_opt_at(lua_State *L, int idx, const char *field) {
  if (idx < 0) return -idx;
  lua_getfield(L, idx, field);
  return lua_gettop(L);
}

/* Pops what td_opt_at pushed. */
static void td_opt_done(lua_State *L, int idx) {
  if (idx >= 0) lua_pop(L, 1);
}

/* One walk of the table at idx (absolute): pushes one slot per name (nil when absent) at
   base..base+n-1, base being the top before the call, each holding the value of that key;
   raises as td_check_keys does on any other key, unless `others` (then other keys are skipped,
   and each name is looked up instead). */
static int td_gather(lua_State *L, int idx, const char *const *names, int others, const char *what) {
  int base = lua_gettop(L) + 1, i, n = 0;
  while (names[n]) n++;
  luaL_checkstack(L, n + 3, what);
  if (others) { /* other keys are skipped: a lookup of each name costs less than a walk */
    for (i = 0; i < n; i++) {
      lua_pushstring(L, names[i]);
      lua_rawget(L, idx);
    }
    return base;
  }
  for (i = 0; i < n; i++) lua_pushnil(L);
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    const char *k;
    int found = -1;
    if (lua_type(L, -2) != LUA_TSTRING) {
      if (!others) luaL_error(L, "%s: option names must be strings", what);
      lua_pop(L, 1);
      continue;
    }
    k = lua_tostring(L, -2);
    for (i = 0; i < n && found < 0; i++)
      if (k[0] == names[i][0] && strcmp(k, names[i]) == 0) found = i;
    if (found >= 0) lua_replace(L, base + found); /* pops the value */
    else if (others) lua_pop(L, 1);
    else luaL_error(L, "%s: unknown option '%s'", what, k);
  }
  return base;
}

/* Optional string field; NULL when absent. Read from a table, the value stays pushed on the
   stack (nil or the string), which keeps the string alive whatever happens to the table; a
   slot's value is on the stack already. */
static const char *td_opt_string(lua_State *L, int idx, const char *field, size_t *len, const char *what) {
  const char *s = NULL;
  int i = td_opt_at(L, idx, field);
  if (!lua_isnil(L, i)) {
    if (lua_type(L, i) != LUA_TSTRING)
      luaL_error(L, "%s: option '%s' must be a string (got %s)", what, field, luaL_typename(L, i));
    s = lua_tolstring(L, i, len);
  }
  return s;
}

static long td_opt_ms(lua_State *L, int idx, const char *field, long dflt, const char *what) {
  long v = dflt;
  int i = td_opt_at(L, idx, field);
  if (!lua_isnil(L, i)) {
    lua_Number n;
    if (lua_type(L, i) != LUA_TNUMBER)
      luaL_error(L, "%s: option '%s' must be a number (got %s)", what, field, luaL_typename(L, i));
    n = lua_tonumber(L, i);
    if (!(n >= 0 && n <= 2147483647.0))
      luaL_error(L, "%s: option '%s' must be between 0 and 2147483647 milliseconds", what, field);
    v = (long)n;
  }
  td_opt_done(L, idx);
  return v;
}

static int td_opt_bool(lua_State *L, int idx, const char *field, int dflt, const char *what) {
  int v = dflt;
  int i = td_opt_at(L, idx, field);
  if (!lua_isnil(L, i)) {
    if (lua_type(L, i) != LUA_TBOOLEAN)
      luaL_error(L, "%s: option '%s' must be a boolean (got %s)", what, field, luaL_typename(L, i));
    v = lua_toboolean(L, i);
  }
  td_opt_done(L, idx);
  return v;
}

/* One of a list of names (luaL_checkoption on a field would say "bad argument #-1 to '?'", and
   LuaJIT's takes a non-string as the default). Returns the index, or dflt when absent. */
static int td_opt_choice(lua_State *L, int idx, const char *field, int dflt, const char *const *names,
                         const char *what) {
  int i, found = -1, at = td_opt_at(L, idx, field);
  if (lua_isnil(L, at)) {
    td_opt_done(L, idx);
    return dflt;
  }
  if (lua_type(L, at) == LUA_TSTRING) {
    const char *s = lua_tostring(L, at);
    for (i = 0; names[i] && found < 0; i++)
      if (s[0] == names[i][0] && strcmp(s, names[i]) == 0) found = i;
  }
  if (found < 0) {
    luaL_Buffer b;
    lua_pushvalue(L, at);
    luaL_buffinit(L, &b);
    for (i = 0; names[i]; i++) {
      if (i) luaL_addstring(&b, names[i + 1] ? ", " : " or ");
      luaL_addchar(&b, '\'');
      luaL_addstring(&b, names[i]);
      luaL_addchar(&b, '\'');
    }
    luaL_pushresult(&b);
    luaL_error(L, "%s: option '%s' must be %s (got %s)", what, field, lua_tostring(L, -1),
               lua_type(L, -2) == LUA_TSTRING ? "another string" : luaL_typename(L, -2));
  }
  td_opt_done(L, idx);
  return found;
}

/* ---------- libcurl callbacks: never touch Lua here ---------- */

/* td_buf_add, without a call while the bytes fit (the callbacks add a piece at a time). */
static int td_buf_append(td_buf *b, const char *p, size_t n) {
  if (n < b->cap - b->len) { /* (cap 0: never, len < cap otherwise) */
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
  }
  return td_buf_add(b, p, n);
}

static size_t td_on_body(char *ptr, size_t size, size_t nmemb, void *ud) {
  td_xfer *x = (td_xfer *)ud;
  size_t n = size * nmemb;
  if (x->sink && x->status >= 200 && x->status < 300) {
    /* streamed: the sink takes the buffer between multi steps; pause while it is full */
    if (x->body.len >= TD_SINK_CHUNK) {
      x->paused = 1;
      return CURL_WRITEFUNC_PAUSE;
    }
  } else if (x->max_body > 0 && (curl_off_t)(x->body.len + n) > x->max_body) {
    x->too_large = 1;
    return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
  }
  if (td_buf_append(&x->body, ptr, n) != 0) return 0;
  return n;
}

static size_t td_on_header(char *ptr, size_t size, size_t nmemb, void *ud) {
  td_xfer *x = (td_xfer *)ud;
  size_t n = size * nmemb;
  if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0) {
    /* a new response starts (after 100 Continue or a proxy CONNECT): keep only the last */
    const char *sp = (const char *)memchr(ptr, ' ', n);
    td_buf_reset(&x->head, 0);
    x->body.len = 0;
    x->head_done = 0;
    x->status = 0;
    x->ct_at = -1;
    if (sp && (size_t)(sp - ptr) + 4 <= n) { /* the digits after the blanks, as strtol reads them */
      const char *q = sp + 1, *end = ptr + n;
      long v = 0;
      while (q < end && (*q == ' ' || *q == '\t')) q++;
      for (; q < end && *q >= '0' && *q <= '9' && v < 100000000L; q++) v = v * 10 + (*q - '0');
      x->status = v;
    }
  } else if ((n == 2 && ptr[0] == '\r' && ptr[1] == '\n') || (n == 1 && ptr[0] == '\n')) {
    x->head_done = 1;
  } else if (x->ct_at < 0 && n > 13 && (ptr[0] | 0x20) == 'c' && ptr[12] == ':' &&
             td_strncaseeq(ptr, "content-type", 12)) {
    x->ct_at = (long)x->head.len; /* (td_finish takes its value from there, not from a search) */
  } else if (x->raw_head == TD_RAW_NON2XX && x->status >= 200 && x->status < 300) {
    return n; /* the block of a 2xx is not handed back: only its Content-Type line is kept */
  }
  if (td_buf_append(&x->head, ptr, n) != 0) return 0;
  return n;
}

/*
 * Called each time libcurl is about to send the request: once normally, again when it retries
 * by itself because a reused connection died before the first response byte (for POST too).
 * A request sent at most once refuses that second time: the first copy may have been processed.
 */
static int td_on_prereq(void *ud, char *remote_ip, char *local_ip, int remote_port, int local_port) {
  td_xfer *x = (td_xfer *)ud;
  (void)remote_ip;
  (void)local_ip;
  (void)remote_port;
  (void)local_port;
  if (x->once && x->sends > 0) {
    x->resend_refused = 1;
    return CURL_PREREQFUNC_ABORT;
  }
  x->sends++;
  return CURL_PREREQFUNC_OK;
}

/* The socket() libcurl would make (close-on-exec), keeping its errno: EMFILE is not a refused
   connection. */
static curl_socket_t td_on_opensocket(void *ud, curlsocktype purpose, struct curl_sockaddr *a) {
  td_xfer *x = (td_xfer *)ud;
  curl_socket_t s;
  (void)purpose;
#ifdef SOCK_CLOEXEC
  s = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol); /* not inherited by children */
#else
  s = socket(a->family, a->socktype, a->protocol);
#endif
  if (s == CURL_SOCKET_BAD) x->sock_errno = errno;
  return s;
}

/* ---------- composing what we send ---------- */

static const char td_b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int td_add_base64(td_buf *b, const unsigned char *s, size_t n) {
  size_t i;
  for (i = 0; i + 2 < n; i += 3) {
    char q[4];
    q[0] = td_b64[s[i] >> 2];
    q[1] = td_b64[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
    q[2] = td_b64[((s[i + 1] & 15) << 2) | (s[i + 2] >> 6)];
    q[3] = td_b64[s[i + 2] & 63];
    if (td_buf_add(b, q, 4)) return -1;
  }
  if (n - i == 1) {
    char q[4];
    q[0] = td_b64[s[i] >> 2];
    q[1] = td_b64[(s[i] & 3) << 4];
    q[2] = '=';
    q[3] = '=';
    if (td_buf_add(b, q, 4)) return -1;
  } else if (n - i == 2) {
    char q[4];
    q[0] = td_b64[s[i] >> 2];
    q[1] = td_b64[((s[i] & 3) << 4) | (s[i + 1] >> 4)];
    q[2] = td_b64[(s[i + 1] & 15) << 2];
    q[3] = '=';
    if (td_buf_add(b, q, 4)) return -1;
  }
  return 0;
}

static int td_add_json_string(td_buf *b, const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  if (td_buf_addc(b, '"')) return -1;
  for (; *p; p++) {
    unsigned char c = *p;
    int rc;
    if (c == '"') rc = td_buf_adds(b, "\\\"");
    else if (c == '\\') rc = td_buf_adds(b, "\\\\");
    else if (c == '\n') rc = td_buf_adds(b, "\\n");
    else if (c == '\r') rc = td_buf_adds(b, "\\r");
    else if (c == '\t') rc = td_buf_adds(b, "\\t");
    else if (c < 0x20 || c == 0x7f) {
      char esc[8];
      snprintf(esc, sizeof esc, "\\u%04x", (unsigned)c);
      rc = td_buf_adds(b, esc);
    } else rc = td_buf_addc(b, (char)c);
    if (rc) return -1;
  }
  return td_buf_addc(b, '"');
}

static int td_slist_add(struct curl_slist **l, const char *line) {
  struct curl_slist *s = curl_slist_append(*l, line);
  if (s == NULL) return -1;
  *l = s;
  return 0;
}

/* libcurl frees header lists without wiping them; one of these lines holds a credential. */
static void td_slist_free(struct curl_slist **l) {
  struct curl_slist *s;
  for (s = *l; s; s = s->next)
    if (s->data) td_wipe(s->data, strlen(s->data));
  curl_slist_free_all(*l);
  *l = NULL;
}

static int td_append_auth(td_client *c, td_xfer *x) {
  int rc;
  td_buf_reset(&c->scratch, 1);
  if (td_buf_adds(&c->scratch, "Authorization: ")) return -1;
  if (c->mode == TD_AUTH_BASIC && c->email && c->password) {
    td_buf pair;
    td_buf_init(&pair);
    rc = td_buf_adds(&pair, c->email) || td_buf_addc(&pair, ':') || td_buf_adds(&pair, c->password) ||
         td_buf_adds(&c->scratch, "Basic ") ||
         td_add_base64(&c->scratch, (const unsigned char *)pair.data, pair.len);
    td_buf_free(&pair, 1);
    if (rc) return -1;
  } else if (c->mode == TD_AUTH_JWT && c->token) {
    if (strncmp(c->token, "JWT ", 4) != 0 && strncmp(c->token, "jwt ", 4) != 0 &&
        td_buf_adds(&c->scratch, "JWT "))
      return -1;
    if (td_buf_adds(&c->scratch, c->token)) return -1;
  } else {
    td_buf_reset(&c->scratch, 1);
    return 0; /* nothing to send */
  }
  rc = td_slist_add(&x->slist, c->scratch.data);
  td_buf_reset(&c->scratch, 1);
  return rc;
}

static const char *td_auth_kind(const td_client *c) {
  if (c->mode == TD_AUTH_BASIC && c->email && c->password) return "basic";
  if (c->mode == TD_AUTH_JWT && c->token) return "jwt";
  return "none";
}

/* ---------- transfer slots ---------- */

/* Drops a transfer's header list and what it was built from (both may hold a credential). */
static void td_xfer_forget_headers(td_xfer *x) {
  td_slist_free(&x->slist);
  td_buf_reset(&x->sig, 1);
}

static void td_xfer_clear(td_xfer *x) {
  td_buf_reset(&x->out, 1); /* may be the sign-in body */
  /* give large buffers back rather than keeping the biggest response ever seen */
  if (x->body.cap > 1024 * 1024) td_buf_free(&x->body, 0);
  else td_buf_reset(&x->body, 0);
  if (x->out.cap > 1024 * 1024) td_buf_free(&x->out, 1);
  td_buf_reset(&x->head, 0); /* (label stays: td_begin keeps it while method and URL do) */
  td_buf_reset(&x->sinkerr, 0);
  x->state = TD_X_IDLE;
  x->id = 0;
  x->tagged = 0; /* (wait and cancel have taken its tag out of the tags table) */
}

static void td_xfer_destroy(td_xfer *x) {
  if (x->easy) curl_easy_cleanup(x->easy);
#if LIBCURL_VERSION_NUM >= 0x073f00
  if (x->cu) curl_url_cleanup(x->cu); /* (after the handle that points to it) */
#endif
  td_slist_free(&x->slist);
  td_buf_free(&x->sig, 1);
  td_buf_free(&x->body, 0);
  td_buf_free(&x->head, 0);
  td_buf_free(&x->out, 1);
  td_buf_free(&x->label, 0);
  td_buf_free(&x->url, 1);
  td_buf_free(&x->sinkerr, 0);
  free(x);
}

/* Takes a transfer out of the multi handle (if it is there) and makes its slot free. Its
   header list stays for the next request, unless the credentials changed meanwhile. */
static void td_xfer_recycle(td_client *c, td_xfer *x) {
  if (x->state == TD_X_RUNNING) {
    curl_multi_remove_handle(c->multi[x->many], x->easy);
    c->running[x->many]--;
  }
  td_xfer_clear(x);
  if (x->slist && x->sig_gen != c->auth_gen) td_xfer_forget_headers(x);
}

/* The credentials changed: idle slots drop header lists holding the old ones now (a running
   one drops its list when it is recycled). */
static void td_credentials_changed(td_client *c) {
  int i;
  c->auth_gen++;
  for (i = 0; i < c->nxs; i++)
    if (c->xs[i]->state == TD_X_IDLE) td_xfer_forget_headers(c->xs[i]);
  if (c->solo) td_xfer_forget_headers(c->solo); /* (idle: credentials change between calls) */
}

/* libcurl (and OpenSSL with it) is set up by the first transfer of the process, and a client's
   transfers and caches by the first transfer that needs them: loading the module and making a
   client set up nothing of libcurl. curl_global_init is thread-safe in libcurl >= 7.84 (a lock of its
   own); td_global_ready only saves calls: two Lua states in two threads racing on it both call
   curl_global_init, which libcurl counts. Returns 0 when it failed. */
static int td_ready(void) {
  if (!td_global_ready) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return 0;
    td_find_codings();
    td_global_ready = 1;
  }
  return 1;
}

/* A new transfer slot with its easy handle, or NULL when memory ran out. */
static td_xfer *td_xfer_new(void) {
  td_xfer *x = (td_xfer *)calloc(1, sizeof *x);
  if (!x) return NULL;
  x->easy = curl_easy_init();
  if (!x->easy) {
    free(x);
    return NULL;
  }
  return x;
}

/* A free slot, or NULL when memory ran out. */
static td_xfer *td_xfer_take(td_client *c) {
  td_xfer *x, **grown;
  int i;
  for (i = 0; i < c->nxs; i++)
    if (c->xs[i]->state == TD_X_IDLE) return c->xs[i];
  x = td_xfer_new(); /* (slot 0 until it has its place in xs) */
  if (!x) return NULL;
  grown = (td_xfer **)realloc(c->xs, sizeof *grown * (size_t)(c->nxs + 1));
  if (!grown) {
    td_xfer_destroy(x);
    return NULL;
  }
  c->xs = grown;
  c->xs[c->nxs++] = x;
  x->slot = c->nxs;
  return x;
}

static td_xfer *td_xfer_find(td_client *c, int id) {
  int i;
  for (i = 0; i < c->nxs; i++)
    if (c->xs[i]->state != TD_X_IDLE && c->xs[i]->id == id) return c->xs[i];
  return NULL;
}

/* ---------- phase 2: one setter per option family; none raises ---------- */

static int td_is_plain_get(const td_spec *s) {
  return s->mlen == 3 && memcmp(s->method, "GET", 3) == 0 && !s->body && s->send_mode != TD_SEND_SIGNIN && !s->sink;
}

/* What the handle is left set up for after this request (TD_CONF_NONE: not a plain GET). */
static int td_conf_of(const td_spec *s) {
  if (!td_is_plain_get(s)) return TD_CONF_NONE;
  if (!s->many) return TD_CONF_SINGLE;
  return s->ulen >= 8 && td_strncaseeq(s->url, "https://", 8) ? TD_CONF_MANY_HTTPS : TD_CONF_MANY_HTTP;
}

/* Method and body (after a reset: on a handle left as a plain GET a plain GET sets nothing).
   The body is copied: the transfer may outlive the Lua call. */
static int td_set_method(td_client *c, td_xfer *x, const td_spec *s) {
  CURL *e = x->easy;
  int is_post = s->mlen == 4 && memcmp(s->method, "POST", 4) == 0;
  if (s->send_mode == TD_SEND_SIGNIN) {
    if (td_buf_adds(&x->out, "{\"email\":") || td_add_json_string(&x->out, c->email) ||
        td_buf_adds(&x->out, ",\"password\":") || td_add_json_string(&x->out, c->password) ||
        td_buf_addc(&x->out, '}'))
      return -1;
  } else if (s->body && td_buf_add(&x->out, s->body, s->blen)) {
    return -1;
  }
  if (s->mlen == 3 && memcmp(s->method, "GET", 3) == 0 && !s->body && s->send_mode != TD_SEND_SIGNIN) {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  } else if (s->mlen == 4 && memcmp(s->method, "HEAD", 4) == 0) {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else {
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, s->method);
    if (s->body || is_post || s->send_mode == TD_SEND_SIGNIN) {
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->out.len);
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->out.data ? x->out.data : "");
    }
  }
  return 0;
}

/* The header list: the caller's lines (composed in phase 1 into c->hsig), the credentials and
   what we manage. The list of the slot's previous request is kept when it was built from the
   same lines, send mode and credentials. Returns 1 when the list is new, 0 when kept, -1 when
   memory ran out. */
static int td_set_headers(td_client *c, td_xfer *x, const td_spec *s) {
  const char *p = c->hsig.data, *end = p + c->hsig.len;
  int rc = 0, body = s->body != NULL || s->send_mode == TD_SEND_SIGNIN;
  if (x->slist && x->sig_gen == c->auth_gen && x->sig_mode == s->send_mode && x->sig_body == body &&
      x->sig.len == c->hsig.len && (c->hsig.len == 0 || memcmp(x->sig.data, c->hsig.data, c->hsig.len) == 0))
    return 0;
  td_xfer_forget_headers(x);
  for (; rc == 0 && p < end; p += strlen(p) + 1) rc = td_slist_add(&x->slist, p);
  /* the User-Agent as one of our lines (cheaper for libcurl than its own option), unless the
     caller gave one */
  if (rc == 0 && !s->own_ua) rc = td_slist_add(&x->slist, c->ua_line);
  if (rc == 0 && !s->own_ae && td_codings) rc = td_slist_add(&x->slist, td_ae_line); /* likewise */
  if (rc == 0 && s->send_mode == TD_SEND_CREDENTIALS) rc = td_append_auth(c, x);
  if (rc == 0 && s->send_mode == TD_SEND_SIGNIN) rc = td_slist_add(&x->slist, "Content-Type: application/json");
  if (rc == 0 && body) rc = td_slist_add(&x->slist, "Expect:"); /* no 100-continue round trip */
  if (rc == 0) rc = td_buf_add(&x->sig, c->hsig.data, c->hsig.len);
  if (rc != 0) {
    td_xfer_forget_headers(x);
    return -1;
  }
  x->sig_mode = s->send_mode;
  x->sig_body = body;
  x->sig_gen = c->auth_gen;
  return 1;
}

/* What stays the same for every request of the client: protocols, TLS, proxy, what we receive
   and how. Set after each reset of the handle. */
static void td_set_constant(td_client *c, td_xfer *x) {
  CURL *e = x->easy;
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  /* decode what libcurl can; the request says so in our own Accept-Encoding line, or the
     caller's (libcurl adds none when a line is there) */
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, td_codings ? td_codings : "");
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, c->ssl_verify ? 1L : 0L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->ssl_verify ? 2L : 0L);
  if (c->cafile) curl_easy_setopt(e, CURLOPT_CAINFO, c->cafile);
  if (c->capath) curl_easy_setopt(e, CURLOPT_CAPATH, c->capath);
  if (c->proxy) {
    curl_easy_setopt(e, CURLOPT_PROXY, c->proxy);
  } else if (c->no_proxy) {
    curl_easy_setopt(e, CURLOPT_PROXY, ""); /* "" overrides the environment's proxies */
    curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
  }
  curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, td_on_opensocket);
  curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, x);
  curl_easy_setopt(e, CURLOPT_PRIVATE, x);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, td_on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, td_on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
  curl_easy_setopt(e, CURLOPT_PREREQDATA, x);
}

/* The HTTP version and connection sharing (after a reset), the size limit. A single transfer
   speaks HTTP/1.1: with one request at a time HTTP/2 gains nothing and costs more on both ends.
   Many in flight speak HTTP/2 over TLS where the server offers it (one connection, many
   streams): they wait for a connection being made to learn whether it multiplexes; plain HTTP
   is HTTP/1.1, one connection per transfer. */
static void td_set_flavour(td_xfer *x, const td_spec *s) {
  CURL *e = x->easy;
  if (!s->many) {
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
  } else {
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    if (s->ulen >= 8 && td_strncaseeq(s->url, "https://", 8)) curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
  }
  /* a streamed body has no size limit; an error body still has */
  if (x->max_body > 0 && !x->sink) curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, x->max_body);
}

/* The URL parsed once (libcurl's own parse, with the flags it gives it), handed over beside
   CURLOPT_URL as CURLOPT_CURLU, which takes precedence: libcurl 7.88 then neither parses the URL
   nor formats it again (a byte at a time) on each transfer, about 17 k instructions a call.
   CURLOPT_URL stays set to the same string, which libcurl keeps as the transfer's URL (a request
   it sends again on a new connection goes there). A URL this parse refuses goes alone, as
   CURLOPT_URL, so that libcurl refuses it as it always did. */
static void td_set_parsed_url(td_xfer *x, const char *url) {
#if LIBCURL_VERSION_NUM >= 0x073f00
  CURL *e = x->easy;
  if (!x->cu) x->cu = curl_url();
  else curl_url_set(x->cu, CURLUPART_URL, NULL, 0); /* emptied: a URL set on a URL would be read relative to it */
  if (x->cu && curl_url_set(x->cu, CURLUPART_URL, url, CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK)
    curl_easy_setopt(e, CURLOPT_CURLU, x->cu);
  else
    curl_easy_setopt(e, CURLOPT_CURLU, NULL);
#else
  (void)x;
  (void)url;
#endif
}

/* Adds a request's URL to a message label: without its query or fragment, and without the
   userinfo of its authority, so that a password written into the URL reaches no message. */
static int td_label_url(td_buf *b, const char *url) {
  size_t n = strcspn(url, "?#");
  const char *end = url + n, *host = url, *auth_end, *at = NULL, *p = url;
  /* the authority follows "scheme://" (libcurl reads a URL without a scheme as http) */
  if (isalpha((unsigned char)*p)) {
    do p++; while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.');
    if (p + 3 <= end && p[0] == ':' && p[1] == '/' && p[2] == '/') host = p + 3;
  }
  auth_end = host + strcspn(host, "/?#");
  for (p = host; p < auth_end; p++)
    if (*p == '@') at = p; /* the last one: a password may hold an unescaped '@' */
  if (at) return td_buf_add(b, url, (size_t)(host - url)) || td_buf_add(b, at + 1, (size_t)(end - (at + 1)));
  return td_buf_add(b, url, n);
}

/* ---------- the multi handles, driven by their sockets ---------- */

/* Makes room for one socket more in the client's socket arrays. Returns 0, or -1 when memory ran
   out (the arrays stay as they were: each keeps its old size until all four have grown). */
static int td_grow_socks(td_client *c) {
  int cap = c->cap_pfd ? c->cap_pfd * 2 : 16;
  struct pollfd *p, *r;
  unsigned char *pk, *rk;
  p = (struct pollfd *)realloc(c->pfd, (size_t)cap * sizeof *p);
  if (!p) return -1;
  c->pfd = p;
  r = (struct pollfd *)realloc(c->ready, (size_t)cap * sizeof *r);
  if (!r) return -1;
  c->ready = r;
  pk = (unsigned char *)realloc(c->pk, (size_t)cap);
  if (!pk) return -1;
  c->pk = pk;
  rk = (unsigned char *)realloc(c->readyk, (size_t)cap);
  if (!rk) return -1;
  c->readyk = rk;
  c->cap_pfd = cap;
  return 0;
}

/* The index of socket fd of multi handle k among those watched, or c->npfd when it is not one. */
static int td_sock_find(const td_client *c, curl_socket_t fd, int k) {
  int i;
  for (i = 0; i < c->npfd; i++)
    if (c->pfd[i].fd == fd && c->pk[i] == k) break;
  return i;
}

/* Stops watching the socket at index i (the last one takes its place). */
static void td_sock_drop(td_client *c, int i) {
  c->npfd--;
  c->pfd[i] = c->pfd[c->npfd];
  c->pk[i] = c->pk[c->npfd];
}

/* libcurl's socket callback: watch socket s for what (or stop watching it). Notes it in the
   client only. td_begin keeps room for a few sockets more than are watched before it adds a
   transfer, so growing here is rare; when even that finds no memory it returns -1, and libcurl
   fails the handle's transfers. */
static int td_on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp) {
  td_mref *r = (td_mref *)userp;
  td_client *c = r->c;
  int i = td_sock_find(c, s, r->k);
  (void)e;
  (void)socketp;
  if (what == CURL_POLL_REMOVE) {
    if (i < c->npfd) td_sock_drop(c, i);
    return 0;
  }
  if (i == c->npfd) {
    if (c->npfd == c->cap_pfd && td_grow_socks(c)) return -1;
    c->pfd[i].fd = s;
    c->pk[i] = (unsigned char)r->k;
    c->npfd++;
  }
  c->pfd[i].events = (short)((what & CURL_POLL_IN ? POLLIN : 0) | (what & CURL_POLL_OUT ? POLLOUT : 0));
  c->pfd[i].revents = 0;
  return 0;
}

/* libcurl's timer callback: its next timeout falls in ms (-1: none). */
static int td_on_timer(CURLM *m, long ms, void *userp) {
  td_mref *r = (td_mref *)userp;
  (void)m;
  r->c->timer_at[r->k] = ms < 0 ? -1.0 : td_clock_ms() + (double)ms;
  return 0;
}

/* Makes multi handle k (0: single transfers beside many in flight; 1: many, multiplexed over
   HTTP/2 where the server offers it), driven by its sockets. On failure it stays NULL. */
static void td_multi_init(td_client *c, int k) {
  CURLM *m = curl_multi_init();
  if (!m) return;
  curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, td_on_socket);
  curl_multi_setopt(m, CURLMOPT_SOCKETDATA, &c->mref[k]);
  curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, td_on_timer);
  curl_multi_setopt(m, CURLMOPT_TIMERDATA, &c->mref[k]);
  if (k) curl_multi_setopt(m, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
  c->timer_at[k] = -1.0;
  c->multi[k] = m;
}


/*
 * Configures a free slot for the request (as transfer id) and adds it to the multi handle. Returns the slot
 * (state RUNNING, or DONE with rc set when setting up failed), or NULL when no slot could be
 * had. Nothing here raises.
 */
static td_xfer *td_begin(td_client *c, const td_spec *s, int id) {
  td_xfer *x;
  int conf, fresh, hrc, labelled, same_url;
  CURL *e;
  if (!td_ready()) return NULL;
  if (s->solo) {
    if (!c->solo) c->solo = td_xfer_new();
    x = c->solo;
  } else {
    x = td_xfer_take(c);
  }
  if (!x) return NULL;
  e = x->easy;
  conf = td_conf_of(s);
  /* the URL of the slot's last request (the handle holds it unless reset below), and its label,
     which serves while method and URL are the same */
  same_url = x->url.len == s->ulen && s->ulen > 0 && memcmp(x->url.data, s->url, s->ulen) == 0;
  labelled = same_url && x->label.len > s->mlen && x->label.data[s->mlen] == ' ' &&
             memcmp(x->label.data, s->method, s->mlen) == 0;
  /* a plain GET on a handle left as the same plain GET changes only what every request sets */
  fresh = conf == TD_CONF_NONE || x->conf != conf;
  if (fresh) {
    curl_easy_reset(e);
    td_buf_reset(&x->url, 1);
    x->prereq = 0;
    x->timeout_ms = x->connect_ms = -1;
  }
  /* only a request sent at most once needs to know when libcurl is about to send it (libcurl
     does work of its own for the callback on every transfer) */
  if (x->prereq != s->once) {
    curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, s->once ? td_on_prereq : NULL);
    x->prereq = s->once;
  }
  x->conf = TD_CONF_NONE; /* until the request is set up */
  x->id = id;
  c->next_id = id >= 0x3fffffff ? 0 : id;
  x->rc = CURLE_OK;
  x->status = 0;
  x->max_body = c->max_body;
  x->once = s->once;
  x->sink = s->sink;
  x->raw_head = s->raw_head;
  x->sends = x->resend_refused = x->sock_errno = x->sink_failed = x->paused = 0;
  x->too_large = x->head_done = 0;
  x->ct_at = -1;
  x->errbuf[0] = '\0';
  x->state = TD_X_DONE;
  if (!labelled) {
    td_buf_reset(&x->label, 0);
    if (td_buf_add(&x->label, s->method, s->mlen) || td_buf_addc(&x->label, ' ') || td_label_url(&x->label, s->url)) {
      td_buf_reset(&x->label, 0);
      x->rc = CURLE_OUT_OF_MEMORY;
      return x;
    }
  }
  if (fresh) {
    td_set_constant(c, x);
    td_set_flavour(x, s);
    if (td_set_method(c, x, s)) {
      x->rc = CURLE_OUT_OF_MEMORY;
      return x;
    }
  }
  /* the same URL again (a loop over one path) is not handed over again: libcurl would copy it */
  if (fresh || !same_url) { /* (a reset dropped it) */
    curl_easy_setopt(e, CURLOPT_URL, s->url);
    td_set_parsed_url(x, s->url);
    td_buf_reset(&x->url, 1); /* (a query may carry something secret) */
    if (td_buf_add(&x->url, s->url, s->ulen)) x->url.len = 0; /* not kept: set again next time */
  }
  /* timeouts the handle holds already (a loop's calls mostly have the same) are not set again */
  if (x->timeout_ms != s->timeout_ms) {
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, s->timeout_ms);
    x->timeout_ms = s->timeout_ms;
  }
  if (x->connect_ms != s->connect_ms) {
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, s->connect_ms);
    x->connect_ms = s->connect_ms;
  }
  hrc = td_set_headers(c, x, s);
  if (hrc < 0) {
    x->rc = CURLE_OUT_OF_MEMORY;
    return x;
  }
  if (hrc > 0 || fresh) curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->slist);
  x->many = s->many;
  if (s->solo) { /* td_run performs it */
    x->conf = conf;
    x->state = TD_X_RUNNING;
    return x;
  }
  if (!c->multi[x->many]) td_multi_init(c, x->many);
  /* room for the sockets of every transfer added since the last poll and of this one (a
     connection each; resolving and happy eyeballs a few more) before libcurl asks to watch them
     from its callback, where no memory would fail the whole handle */
  while (c->cap_pfd < c->npfd + 4 * (c->running[0] + c->running[1] + 1))
    if (td_grow_socks(c)) {
      x->rc = CURLE_OUT_OF_MEMORY;
      return x;
    }
  if (!c->multi[x->many] || curl_multi_add_handle(c->multi[x->many], e) != CURLM_OK) {
    x->rc = CURLE_OUT_OF_MEMORY;
    return x;
  }
  x->conf = conf;
  x->state = TD_X_RUNNING;
  c->running[x->many]++;
  /* libcurl's default cache keeps 4 connections per transfer in the multi handle at the moment
     one is given back; transfers that ended are taken out before wait hands them over one by
     one, so a burst of ends shrank it below the connections in use and HTTP/1.1 connections
     were closed and made again all through a batch. The cache holds twice the most transfers
     ever in flight instead (it only keeps what was opened: idle ones still age out). */
  if (x->many && c->running[1] * 2L > c->many_cap) {
    c->many_cap = c->running[1] * 2L;
    curl_multi_setopt(c->multi[1], CURLMOPT_MAXCONNECTS, c->many_cap);
  }
  return x;
}

/* ---------- phase 3: results ---------- */

static const char *td_kind_of(const td_xfer *x) {
  if (x->sink_failed) return "sink";
  if (x->resend_refused) return "unknown_outcome";
  switch (x->rc) {
    case CURLE_OK: return x->once && x->sends > 0 ? "unknown_outcome" : "transport"; /* headers cut short */
    case CURLE_OPERATION_TIMEDOUT: return "timeout";
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return "resolve";
    case CURLE_OUT_OF_MEMORY: return "resource";
    case CURLE_COULDNT_CONNECT:
      if (x->sock_errno == EMFILE || x->sock_errno == ENFILE || x->sock_errno == ENOBUFS || x->sock_errno == ENOMEM)
        return "resource";
      return "connect";
    case CURLE_FILESIZE_EXCEEDED: return "too_large";
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_USE_SSL_FAILED: return "tls";
    case CURLE_WRITE_ERROR: return x->too_large ? "too_large" : "transport";
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE: return x->once && x->sends > 0 ? "unknown_outcome" : "transport";
    default: return "transport";
  }
}

/* Pushes nil, msg, err: msg is "<label>: <kind> (<detail>)", label having no query. */
static int td_push_failure(lua_State *L, const char *label, const char *kind, int code, const char *detail) {
  lua_pushnil(L);
  if (detail && *detail) lua_pushfstring(L, "%s: %s (%s)", label, kind, detail);
  else lua_pushfstring(L, "%s: %s", label, kind);
  lua_createtable(L, 0, 2);
  lua_pushstring(L, kind);
  lua_setfield(L, -2, "kind");
  if (code >= 0) {
    lua_pushinteger(L, code);
    lua_setfield(L, -2, "code");
  }
  return 3;
}

/* The value of the header line at p (the block's bytes from there on, len of them) whose name is
   nl bytes long, its surrounding blanks trimmed. */
static const char *td_field_value(const char *p, size_t len, size_t nl, size_t *vl) {
  const char *eol = (const char *)memchr(p, '\n', len);
  const char *line_end = eol ? eol : p + len, *v = p + nl + 1;
  if (line_end > p && line_end[-1] == '\r') line_end--;
  while (v < line_end && (*v == ' ' || *v == '\t')) v++;
  while (line_end > v && (line_end[-1] == ' ' || line_end[-1] == '\t')) line_end--;
  *vl = (size_t)(line_end - v);
  return v;
}

/* Pushes a Content-Type value: the string pushed last time when the bytes are the same (a
   client's answers mostly have one), kept in the user value at key 0 and its bytes in c->ctype,
   which spares making (hashing) the string again. */
static void td_push_ctype(lua_State *L, td_client *c, const char *ct, size_t n) {
  td_getuservalue(L, 1);
  if (n == c->ctype_len && n <= sizeof c->ctype && memcmp(c->ctype, ct, n) == 0) {
    lua_rawgeti(L, -1, 0);
    if (lua_type(L, -1) == LUA_TSTRING) {
      lua_remove(L, -2);
      return;
    }
    lua_pop(L, 1);
  }
  lua_pushlstring(L, ct, n);
  c->ctype_len = (size_t)-1; /* (nothing kept, should rawseti raise) */
  lua_pushvalue(L, -1);
  lua_rawseti(L, -3, 0);
  lua_remove(L, -2);
  if (n <= sizeof c->ctype) {
    memcpy(c->ctype, ct, n);
    c->ctype_len = n;
  }
}

/* Pushes a header name in lower case. */
static void td_push_lower(lua_State *L, const char *p, size_t n) {
  char small[64];
  size_t i;
  if (n > sizeof small) {
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (i = 0; i < n; i++) luaL_addchar(&b, (p[i] >= 'A' && p[i] <= 'Z') ? (char)(p[i] - 'A' + 'a') : p[i]);
    luaL_pushresult(&b);
    return;
  }
  for (i = 0; i < n; i++) small[i] = (p[i] >= 'A' && p[i] <= 'Z') ? (char)(p[i] - 'A' + 'a') : p[i];
  lua_pushlstring(L, small, n);
}

/* Turns a header block (status line, header lines) into a table: lower-case names, repeats as
   arrays. */
static void td_push_headers(lua_State *L, const char *p, size_t len) {
  const char *end = p + len, *q;
  int first = 1, lines = 0, nseen = 0, j;
  /* the names met so far (in the block): a name not among them needs no lookup in the table */
  struct { const char *p; size_t n; } seen[32];
  for (q = p; q < end && (q = (const char *)memchr(q, '\n', (size_t)(end - q))) != NULL; q++) lines++;
  lua_createtable(L, 0, lines > 2 ? lines - 2 : 0); /* the status line and the empty one are no fields */
  while (p < end) {
    const char *eol = (const char *)memchr(p, '\n', (size_t)(end - p));
    const char *line_end = eol ? eol : end;
    const char *colon, *v, *ve;
    if (line_end > p && line_end[-1] == '\r') line_end--;
    if (first) { /* status line */
      first = 0;
      p = eol ? eol + 1 : end;
      continue;
    }
    /* an empty line ends the block; a line folded onto the previous one (obsolete) is skipped */
    if (line_end <= p || *p == ' ' || *p == '\t') {
      p = eol ? eol + 1 : end;
      continue;
    }
    colon = (const char *)memchr(p, ':', (size_t)(line_end - p));
    if (colon && colon > p) {
      size_t nl = (size_t)(colon - p);
      int known = nseen == (int)(sizeof seen / sizeof seen[0]); /* too many to tell: look it up */
      for (j = 0; j < nseen && !known; j++)
        if (seen[j].n == nl && td_strncaseeq(seen[j].p, p, nl)) known = 1;
      td_push_lower(L, p, nl);
      v = colon + 1;
      while (v < line_end && (*v == ' ' || *v == '\t')) v++;
      ve = line_end;
      while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) ve--;
      if (!known) { /* the first of its name */
        seen[nseen].p = p;
        seen[nseen++].n = nl;
        lua_pushlstring(L, v, (size_t)(ve - v));
        lua_rawset(L, -3);
        p = eol ? eol + 1 : end;
        continue;
      }
      lua_pushvalue(L, -1);
      lua_rawget(L, -3);
      if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushlstring(L, v, (size_t)(ve - v));
        lua_rawset(L, -3);
      } else if (lua_type(L, -1) == LUA_TSTRING) {
        lua_createtable(L, 2, 0);
        lua_insert(L, -2);
        lua_rawseti(L, -2, 1);
        lua_pushlstring(L, v, (size_t)(ve - v));
        lua_rawseti(L, -2, 2);
        lua_rawset(L, -3);
      } else {
        int n = (int)td_rawlen(L, -1);
        lua_pushlstring(L, v, (size_t)(ve - v));
        lua_rawseti(L, -2, n + 1);
        lua_pop(L, 2);
      }
    }
    p = eol ? eol + 1 : end;
  }
}

/*
 * Builds the results of a finished transfer, inside lua_pcall (it allocates, so it may raise
 * or run finalizers): status, headers, body or nil, msg, err.
 * Arguments: the client userdata, the transfer (light userdata).
 */
static int td_finish(lua_State *L) {
  td_client *c = (td_client *)lua_touserdata(L, 1);
  td_xfer *x = (td_xfer *)lua_touserdata(L, 2);
  const char *label = x->label.len ? x->label.data : "?";
  if (x->sink) { /* the sink is no longer needed */
    td_getuservalue(L, 1);
    lua_pushnil(L);
    lua_rawseti(L, -2, x->id);
    lua_pop(L, 1);
  }
  if (x->rc != CURLE_OK || !x->head_done) {
    const char *kind = td_kind_of(x);
    char detail[CURL_ERROR_SIZE + TD_SINK_ERR_MAX + 160];
    const char *why = x->errbuf[0] ? x->errbuf : curl_easy_strerror(x->rc);
    if (x->rc == CURLE_OK) why = "the connection closed before the end of the response headers";
    if (strcmp(kind, "too_large") == 0)
      snprintf(detail, sizeof detail, "response larger than max_body_size %ld bytes, curl %d", (long)c->max_body,
               (int)x->rc);
    else if (strcmp(kind, "unknown_outcome") == 0)
      snprintf(detail, sizeof detail,
               "the connection failed after the request was sent; the server may have processed it, "
               "so it was not sent again: %s, curl %d", why, (int)x->rc);
    else if (strcmp(kind, "sink") == 0)
      snprintf(detail, sizeof detail, "the sink failed: %s", x->sinkerr.data ? x->sinkerr.data : "?");
    else if (strcmp(kind, "resource") == 0 && x->sock_errno)
      snprintf(detail, sizeof detail, "no socket: %s, curl %d", strerror(x->sock_errno), (int)x->rc);
    else
      snprintf(detail, sizeof detail, "%s, curl %d", why, (int)x->rc);
    return td_push_failure(L, label, kind, x->rc == CURLE_OK ? (int)CURLE_PARTIAL_FILE : (int)x->rc, detail);
  }
  lua_pushinteger(L, (lua_Integer)x->status);
  if (x->raw_head) {
    const char *ct;
    size_t ctl;
    if (x->raw_head == TD_RAW_NON2XX && x->status >= 200 && x->status < 300) lua_pushboolean(L, 0);
    else lua_pushlstring(L, x->head.data ? x->head.data : "", x->head.len);
    lua_pushlstring(L, x->body.data ? x->body.data : "", x->body.len);
    ct = x->ct_at < 0 ? NULL : td_field_value(x->head.data + x->ct_at, x->head.len - (size_t)x->ct_at, 12, &ctl);
    if (ct) td_push_ctype(L, c, ct, ctl);
    else lua_pushnil(L);
    return 4;
  }
  td_push_headers(L, x->head.data ? x->head.data : "", x->head.len);
  lua_pushlstring(L, x->body.data ? x->body.data : "", x->body.len);
  return 3;
}

/* Runs td_finish (pushed at stack slot fin) for x, frees the slot, clears busy. Returns the
   number of results (3, or 4 with raw_headers) or raises what td_finish raised. */
static int td_results(lua_State *L, td_client *c, td_xfer *x, int fin) {
  int ok, top = lua_gettop(L);
  lua_pushvalue(L, fin);
  lua_pushvalue(L, 1);
  lua_pushlightuserdata(L, x);
  ok = lua_pcall(L, 2, LUA_MULTRET, 0) == 0;
  td_xfer_recycle(c, x);
  c->busy = 0;
  if (!ok) return lua_error(L);
  return lua_gettop(L) - top;
}

/* ---------- sinks: called between multi steps, never from a libcurl callback ---------- */

/* Protected: calls the sink of transfer 2 (light userdata) of client 1 with its pending chunk.
   Raises when the sink raised, or returned false or nil plus a message. */
static int td_call_sink(lua_State *L) {
  td_xfer *x = (td_xfer *)lua_touserdata(L, 2);
  td_getuservalue(L, 1);
  lua_rawgeti(L, -1, x->id);
  lua_pushlstring(L, x->body.data ? x->body.data : "", x->body.len);
  td_buf_reset(&x->body, 0);
  lua_call(L, 1, 2);
  if ((lua_type(L, -2) == LUA_TBOOLEAN && !lua_toboolean(L, -2)) || (lua_isnil(L, -2) && !lua_isnil(L, -1))) {
    if (lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER) lua_pushvalue(L, -1);
    else lua_pushliteral(L, "it returned false");
    return lua_error(L);
  }
  return 0;
}

/* Hands each streamed transfer's pending chunk to its sink (td_call_sink pushed at slot snk).
   A failing sink aborts its transfer; the others go on. */
static void td_flush_sinks(lua_State *L, td_client *c, int snk) {
  int i;
  for (i = 0; i < c->nxs; i++) {
    td_xfer *x = c->xs[i];
    if (!x->sink || x->sink_failed || x->state == TD_X_IDLE || x->body.len == 0) continue;
    if (x->status < 200 || x->status >= 300) continue; /* an error body is kept, not streamed */
    if (x->state == TD_X_DONE && x->rc != CURLE_OK) continue;
    lua_pushvalue(L, snk);
    lua_pushvalue(L, 1);
    lua_pushlightuserdata(L, x);
    if (lua_pcall(L, 2, 0, 0) != 0) {
      const char *m = lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER ? lua_tostring(L, -1) : NULL;
      td_buf_reset(&x->sinkerr, 0);
      if (m) td_buf_add(&x->sinkerr, m, strlen(m) > TD_SINK_ERR_MAX ? TD_SINK_ERR_MAX : strlen(m));
      else td_buf_adds(&x->sinkerr, "it raised a non-string error");
      lua_pop(L, 1);
      x->sink_failed = 1;
      td_buf_reset(&x->body, 0);
      if (x->state == TD_X_RUNNING) {
        curl_multi_remove_handle(c->multi[x->many], x->easy);
        c->running[x->many]--;
        x->state = TD_X_DONE;
      }
      x->rc = CURLE_WRITE_ERROR;
      continue;
    }
    if (x->paused && x->state == TD_X_RUNNING) {
      x->paused = 0;
      curl_easy_pause(x->easy, CURLPAUSE_CONT); /* may deliver the held bytes right away */
    }
  }
}

/* Moves the transfers libcurl finished to DONE. */
static void td_collect(td_client *c) {
  CURLMsg *m;
  int left, k;
  for (k = 0; k < 2; k++) {
    if (!c->multi[k]) continue;
    while ((m = curl_multi_info_read(c->multi[k], &left)) != NULL) {
      td_xfer *x = NULL;
      int i;
      if (m->msg != CURLMSG_DONE) continue;
      for (i = 0; i < c->nxs && !x; i++) /* (a few slots: cheaper than asking libcurl) */
        if (c->xs[i]->easy == m->easy_handle) x = c->xs[i];
      if (!x || x->state != TD_X_RUNNING) continue;
      x->rc = m->data.result;
      curl_multi_remove_handle(c->multi[k], x->easy);
      c->running[k]--;
      x->state = TD_X_DONE;
    }
  }
}

/* The transfer that ended first (lowest id), of run_many's only when many_only; or NULL. */
static td_xfer *td_first_done(td_client *c, int many_only) {
  td_xfer *best = NULL;
  int i;
  for (i = 0; i < c->nxs; i++) {
    td_xfer *x = c->xs[i];
    if (x->state == TD_X_DONE && (!many_only || x->many_i) && (!best || x->id < best->id)) best = x;
  }
  return best;
}

/* Runs the timeouts of the multi handles that fall due within the next millisecond. */
static void td_run_timers(td_client *c) {
  int k, still;
  for (k = 0; k < 2; k++) {
    if (!c->multi[k] || c->timer_at[k] < 0 || c->timer_at[k] - td_clock_ms() >= 1.0) continue;
    c->timer_at[k] = -1.0; /* (td_on_timer sets the next one meanwhile) */
    curl_multi_socket_action(c->multi[k], CURL_SOCKET_TIMEOUT, 0, &still);
  }
}

/* Waits at most ms for any socket libcurl watches, then hands each ready one to its handle. */
static void td_poll_sockets(td_client *c, long ms) {
  int n, i, r = 0, still;
  n = poll(c->pfd, (nfds_t)c->npfd, (int)ms); /* (no socket: a sleep, as a resolver's wait needs) */
  if (n <= 0) return; /* (EINTR: the caller's loop comes back) */
  for (i = 0; i < c->npfd && r < n; i++) {
    if (!c->pfd[i].revents) continue;
    c->ready[r] = c->pfd[i];
    c->readyk[r++] = c->pk[i];
    c->pfd[i].revents = 0;
  }
  for (i = 0; i < r; i++) { /* (acting may change pfd: the ready ones were copied out) */
    short ev = c->ready[i].revents;
    int k = c->readyk[i], what, j;
    curl_socket_t fd = c->ready[i].fd;
    /* one acted on before may have closed this socket (and its number gone to a new one): only a
       socket still watched, as it was, is handed over */
    j = td_sock_find(c, fd, k);
    if (j == c->npfd || !c->multi[k]) continue;
    what = (ev & POLLIN ? CURL_CSELECT_IN : 0) | (ev & POLLOUT ? CURL_CSELECT_OUT : 0) |
           (ev & (POLLERR | POLLHUP | POLLNVAL) ? CURL_CSELECT_ERR : 0);
    /* a socket no longer: not polled any more, dropped before libcurl acts (which may open a
       socket that gets the same number) */
    if (ev & POLLNVAL) td_sock_drop(c, j);
    curl_multi_socket_action(c->multi[k], fd, what, &still);
  }
}

/*
 * Runs the multi handles until `want` is done (want NULL: until any transfer is done), or no
 * transfer is left, or wait_ms passed (wait_ms < 0: no limit; 0: one poll without waiting, so
 * that what is ready moves on). Sinks get their chunks between the steps. Nothing here raises.
 */
static void td_drive(lua_State *L, td_client *c, td_xfer *want, long wait_ms, int snk) {
  double deadline = wait_ms >= 0 ? td_clock_ms() + (double)wait_ms : -1.0;
  int polled = 0;
  for (;;) {
    long ms = 1000;
    int k;
    td_run_timers(c);
    td_collect(c);
    td_flush_sinks(L, c, snk);
    if (want ? want->state == TD_X_DONE : td_first_done(c, 0) != NULL) return;
    if (c->running[0] + c->running[1] == 0) return;
    if (deadline >= 0) {
      double left = deadline - td_clock_ms();
      if (left <= 0 && polled) return;
      ms = left <= 0 ? 0 : left < (double)ms ? (long)left + 1 : ms;
    }
    for (k = 0; k < 2; k++) { /* no later than the next timeout */
      double t;
      if (!c->multi[k] || c->timer_at[k] < 0) continue;
      t = c->timer_at[k] - td_clock_ms();
      if (t < (double)ms) ms = t <= 0 ? 0 : (long)t + 1;
    }
    td_poll_sockets(c, ms);
    polled = 1;
  }
}

/* ---------- phase 1: reading a request table ---------- */

static const char *const td_request_keys[] = {"method", "url", "headers", "body", "timeout_ms", "connect_timeout_ms",
                                              "auth", "once", "sink", "raw_headers", NULL};
enum { TD_RQ_METHOD, TD_RQ_URL, TD_RQ_HEADERS, TD_RQ_BODY, TD_RQ_TIMEOUT, TD_RQ_CONNECT, TD_RQ_AUTH, TD_RQ_ONCE,
       TD_RQ_SINK, TD_RQ_RAWHEAD, TD_RQ_N };
static const char *const td_send_modes[] = {"credentials", "none", "signin", "header", NULL};

/* A byte <= 32 (a control character or space) or DEL in s. */
static int td_has_ctl_or_space(const char *s, size_t n) {
  size_t i = td_clean_words(s, n, 0x21);
  for (; i < n; i++)
    if ((unsigned char)s[i] <= 32 || s[i] == 127) return 1;
  return 0;
}

/* tchar (RFC 9110 5.6.2) by byte: letters, digits and !#$%&'*+-.^_`|~ (a table: header names are
   checked on every request). */
static const unsigned char td_tchar[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1, ['+'] = 1, ['-'] = 1,
    ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1, ['~'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1,
    ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
    ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1,
    ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
    ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1};

/* A header name or method: one or more tchars. */
static int td_is_token(const char *s, size_t n) {
  size_t i;
  if (n == 0) return 0;
  for (i = 0; i < n; i++)
    if (!td_tchar[(unsigned char)s[i]]) return 0;
  return 1;
}

/* Headers the transport manages itself: a caller's copy would break the framing. */
static int td_managed_header(const char *n, size_t nl) {
  switch (nl) {
    case 6: return td_strncaseeq(n, "expect", 6);
    case 10: return td_strncaseeq(n, "connection", 10);
    case 14: return td_strncaseeq(n, "content-length", 14);
    case 17: return td_strncaseeq(n, "transfer-encoding", 17);
    default: return 0;
  }
}

#define TD_HKEPT_MAX 8 /* names whose lines are kept for the next request */
/* the user value's key of the tags table (td_tags): past the kept header lines' keys */
#define TD_UV_TAGS (-(2 * TD_HKEPT_MAX + 1))

/* Whether the table at h holds exactly the names and values kept (c->hkept): the same strings, met
   in the same order (a table not changed since is walked in the same order). Its lines are then
   those of c->hsig: no line is made or checked again. The user value is at the top when it runs. */
static int td_headers_kept(lua_State *L, td_client *c, int h) {
  int i = 0, same = 1, uv = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, h) != 0) {
    if (i == c->hkept) {
      same = 0;
      break;
    }
    lua_rawgeti(L, uv, -(2 * i + 1));
    lua_rawgeti(L, uv, -(2 * i + 2));
    same = lua_rawequal(L, -4, -2) && lua_rawequal(L, -3, -1); /* (strings: by content) */
    lua_pop(L, 3);
    i++;
    if (!same) break;
  }
  lua_settop(L, uv);
  return same && i == c->hkept;
}

/* The caller's headers (the table at stack slot h, or nil) as "Name: value\0" lines into c->hsig
   (emptied first; it may hold a caller's authorization, so it is wiped), unless they are the
   lines kept from the last request (td_headers_kept). Raises on a bad header. */
static void td_read_headers(lua_State *L, td_client *c, int h, td_spec *s, const char *what) {
  int send_mode = s->send_mode, n_lines = 0, keep = 1, uv, i;
  s->own_ua = s->own_ae = 0;
  if (c->hkept >= 0 && lua_istable(L, h)) { /* the last request's headers again (the client's default) */
    td_getuservalue(L, 1);
    if (td_headers_kept(L, c, h)) {
      lua_pop(L, 1);
      s->own_ua = c->hkept_ua;
      s->own_ae = c->hkept_ae;
      return;
    }
    lua_pop(L, 1);
  }
  c->hkept = -1;
  td_buf_reset(&c->hsig, 1);
  if (lua_isnil(L, h)) return;
  if (!lua_istable(L, h)) luaL_error(L, "%s: option 'headers' must be a table (got %s)", what, luaL_typename(L, h));
  td_getuservalue(L, 1);
  uv = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, h) != 0) {
    size_t nl, vl;
    const char *n, *v;
    int vt = lua_type(L, -1), pushed = 0;
    if (lua_type(L, -2) != LUA_TSTRING) luaL_error(L, "%s: header names must be strings", what);
    if (vt != LUA_TSTRING && vt != LUA_TNUMBER)
      luaL_error(L, "%s: header '%s' must be a string (got %s)", what, lua_tostring(L, -2), luaL_typename(L, -1));
    n = lua_tolstring(L, -2, &nl);
    if (!td_is_token(n, nl)) luaL_error(L, "%s: invalid header name", what);
    if (td_managed_header(n, nl)) luaL_error(L, "%s: header '%s' is set by the transport", what, n);
    if (nl == 10 && td_strncaseeq(n, "user-agent", 10)) s->own_ua = 1;
    if (nl == 15 && td_strncaseeq(n, "accept-encoding", 15)) s->own_ae = 1;
    if (vt == LUA_TNUMBER) { /* a number is converted on a copy, never in the table */
      lua_pushvalue(L, -1);
      pushed = 1;
    }
    v = lua_tolstring(L, -1, &vl);
    if (td_bad_field_value(v, vl))
      luaL_error(L, "%s: header '%s' contains a control character (only tab is allowed)", what, n);
    /* only auth='header' lets the caller speak for itself, whatever the case of the name; no
       authorization value is kept (a secret stays in no table of ours) */
    if (nl == 13 && td_strncaseeq(n, "authorization", 13)) {
      keep = 0;
      if (send_mode == TD_SEND_HEADER && td_buf_line(&c->hsig, n, nl, v, vl)) luaL_error(L, "%s: out of memory", what);
    } else if (td_buf_line(&c->hsig, n, nl, v, vl)) {
      luaL_error(L, "%s: out of memory", what);
    }
    /* the other headers that carry credentials by nature are sent, never kept either */
    if ((nl == 19 && td_strncaseeq(n, "proxy-authorization", 19)) || (nl == 6 && td_strncaseeq(n, "cookie", 6))) keep = 0;
    if (vt != LUA_TSTRING || ++n_lines > TD_HKEPT_MAX) keep = 0; /* (5 and 5.0 are equal, their lines not) */
    lua_pop(L, 1 + pushed);
  }
  if (!keep) {
    lua_pop(L, 1);
    return;
  }
  /* kept for the next request: the names and values (strings, no secret), then how many */
  lua_pushnil(L);
  for (i = 0; lua_next(L, h) != 0; i++) {
    lua_pushvalue(L, -2);
    lua_rawseti(L, uv, -(2 * i + 1));
    lua_rawseti(L, uv, -(2 * i + 2));
  }
  for (; i < c->hkept_slots; i++) { /* (drop what an earlier table left) */
    lua_pushnil(L);
    lua_rawseti(L, uv, -(2 * i + 1));
    lua_pushnil(L);
    lua_rawseti(L, uv, -(2 * i + 2));
  }
  lua_pop(L, 1);
  c->hkept = c->hkept_slots = n_lines;
  c->hkept_ua = s->own_ua;
  c->hkept_ae = s->own_ae;
}

/*
 * Validates a request whose fields are at stack slots f.. (in td_request_keys' order: gathered
 * from a table, or c:send's arguments) and anchors on the stack every value C will use, so a
 * finalizer that changes the table cannot pull a string from under us. May raise or run
 * finalizers; changes nothing in the client but c->hsig.
 */
static void td_read_request(lua_State *L, td_client *c, int f, td_spec *s, const char *what) {
  int t = lua_type(L, f + TD_RQ_METHOD);
  if (t == LUA_TNIL) {
    s->method = "GET";
    s->mlen = 3;
  } else if (t != LUA_TSTRING) {
    luaL_error(L, "%s: option 'method' must be a string (got %s)", what, luaL_typename(L, f + TD_RQ_METHOD));
  } else {
    s->method = lua_tolstring(L, f + TD_RQ_METHOD, &s->mlen);
    if (!td_is_token(s->method, s->mlen)) luaL_error(L, "%s: option 'method' is not a valid HTTP method", what);
  }
  if (lua_type(L, f + TD_RQ_URL) != LUA_TSTRING)
    luaL_error(L, "%s: option 'url' must be a string (got %s)", what, luaL_typename(L, f + TD_RQ_URL));
  s->url = lua_tolstring(L, f + TD_RQ_URL, &s->ulen);
  if (td_has_ctl_or_space(s->url, s->ulen))
    luaL_error(L, "%s: option 'url' contains a control character or space", what);
  s->body = td_opt_string(L, TD_SLOT(f + TD_RQ_BODY), "body", &s->blen, what);
  s->timeout_ms = td_opt_ms(L, TD_SLOT(f + TD_RQ_TIMEOUT), "timeout_ms", c->timeout_ms, what);
  s->connect_ms = td_opt_ms(L, TD_SLOT(f + TD_RQ_CONNECT), "connect_timeout_ms", c->connect_timeout_ms, what);
  s->send_mode = td_opt_choice(L, TD_SLOT(f + TD_RQ_AUTH), "auth", TD_SEND_CREDENTIALS, td_send_modes, what);
  s->once = td_opt_bool(L, TD_SLOT(f + TD_RQ_ONCE), "once", 0, what);
  t = lua_type(L, f + TD_RQ_RAWHEAD);
  if (t == LUA_TBOOLEAN) s->raw_head = lua_toboolean(L, f + TD_RQ_RAWHEAD) ? TD_RAW_YES : TD_RAW_NO;
  else if (t == LUA_TNIL) s->raw_head = TD_RAW_NO;
  else if (t == LUA_TSTRING && strcmp(lua_tostring(L, f + TD_RQ_RAWHEAD), "non2xx") == 0) s->raw_head = TD_RAW_NON2XX;
  else
    luaL_error(L, "%s: option 'raw_headers' must be a boolean or 'non2xx' (got %s)", what,
               t == LUA_TSTRING ? "another string" : luaL_typename(L, f + TD_RQ_RAWHEAD));
  s->many = s->solo = 0;
  td_read_headers(L, c, f + TD_RQ_HEADERS, s, what);
  s->sink_slot = f + TD_RQ_SINK;
  if (!lua_isnil(L, s->sink_slot) && !lua_isfunction(L, s->sink_slot))
    luaL_error(L, "%s: option 'sink' must be a function (got %s)", what, luaL_typename(L, s->sink_slot));
  s->sink = lua_isfunction(L, s->sink_slot);
}

/* Phase 1 common to perform, send and start: the request's fields are at slots f... Leaves
   td_finish at slot fin (returned) and td_call_sink at fin+1 (pushed now, so running them later
   needs no allocation) and rechecks the client, which a finalizer run meanwhile may have closed
   or entered. */
static int td_prepare(lua_State *L, td_client *c, int f, td_spec *s, const char *what, const char *doing) {
  td_read_request(L, c, f, s, what);
  if (s->send_mode == TD_SEND_SIGNIN && !(c->email && c->password))
    luaL_error(L, "%s: auth='signin' needs email and password credentials", what);
  lua_pushcfunction(L, td_finish);
  lua_pushcfunction(L, td_call_sink);
  if (c->closed) luaL_error(L, "tiledesk.Client is closed");
  td_check_idle(L, c, doing);
  return lua_gettop(L) - 1;
}

/* The request table at slot 2 (slot 3: true skips the keys the core does not read, a
   transport's own request table handed over as it is, instead of raising): its fields gathered
   onto the stack. Returns the first slot. */
static int td_gather_request(lua_State *L, const char *what) {
  lua_settop(L, 3);
  luaL_checktype(L, 2, LUA_TTABLE);
  return td_gather(L, 2, td_request_keys, lua_toboolean(L, 3), what); /* in td_request_keys' order */
}

/* Phase 2 common to perform, send and start: the sink (at s->sink_slot) is first anchored in the
   user value under the id the transfer will get (that may raise: nothing has changed yet).
   Returns NULL when no transfer slot could be had. */
static td_xfer *td_launch(lua_State *L, td_client *c, const td_spec *s) {
  td_xfer *x;
  int id = c->next_id + 1;
  if (s->sink) {
    td_getuservalue(L, 1);
    lua_pushvalue(L, s->sink_slot);
    lua_rawseti(L, -2, id);
    lua_pop(L, 1);
  }
  x = td_begin(c, s, id);
  if (!x && s->sink) { /* an existing key set to nil: no allocation */
    td_getuservalue(L, 1);
    lua_pushnil(L);
    lua_rawseti(L, -2, id);
    lua_pop(L, 1);
  }
  return x;
}

/* ---------- calls ---------- */

/* perform and send, once the request's fields are at slots f.. */
static int td_run(lua_State *L, td_client *c, int f, const char *what) {
  td_spec s;
  td_xfer *x;
  int fin = td_prepare(L, c, f, &s, what, "perform called");
  /* nothing of many in flight and nothing streamed (a sink is called between multi steps): the
     solo slot, on its own connection cache; otherwise the transfers in flight are driven too */
  s.solo = c->running[1] == 0 && c->running[0] == 0 && !s.sink;
  x = td_launch(L, c, &s);
  if (!x) return td_push_failure(L, s.method, "resource", (int)CURLE_OUT_OF_MEMORY, "out of memory");
  c->busy = 1;
  if (!s.solo) {
    td_drive(L, c, x, -1, fin + 1);
  } else if (x->state == TD_X_RUNNING) {
    x->rc = curl_easy_perform(x->easy);
    x->state = TD_X_DONE;
  }
  return td_results(L, c, x, fin);
}

/* c:perform(req[, others]) -> status, headers, body | status, block, body, content_type
   (raw_headers) | nil, msg, err */
static int td_perform(lua_State *L) {
  td_client *c = td_check(L, 1);
  const char *what = "tiledesk.Client:perform()";
  td_check_idle(L, c, "perform called");
  return td_run(L, c, td_gather_request(L, what), what);
}

/* c:send(method, url, headers, body, timeout_ms, connect_timeout_ms, auth, once, sink,
   raw_headers) -> as perform: the request's fields as arguments (nil: absent), in
   td_request_keys' order, which spares the lookups of a table (the curl transport's send). */
static int td_send(lua_State *L) {
  td_client *c = td_check(L, 1);
  td_check_idle(L, c, "perform called");
  lua_settop(L, 2 + TD_RQ_N); /* (LUA_MINSTACK free slots remain above the arguments) */
  return td_run(L, c, 2, "tiledesk.Client:send()");
}

/*
 * The tags of transfers started with one (start's third argument) wait in a table of the user
 * value (key TD_UV_TAGS) under their slot number (td_xfer.slot), until wait hands them back in
 * place of the id or cancel drops them. Slot numbers are reused, so the table stays an array of
 * the most transfers ever in flight, with no key made and dropped per transfer (a Lua table
 * keyed by ever new ids rehashes every few transfers). Keys 1 to upto hold a value (false: no tag)
 * once grown so far (start: nxs + 1, the slot it may take; run_many: every slot it may use):
 * setting the tag of a transfer then allocates nothing, so it cannot fail once the transfer is
 * under way. Pushes the table; returns its stack index.
 */
static int td_tags(lua_State *L, td_client *c, int upto) {
  int t, i;
  td_getuservalue(L, 1);
  lua_rawgeti(L, -1, TD_UV_TAGS);
  if (!lua_istable(L, -1)) {
    lua_pop(L, 1);
    lua_createtable(L, c->nxs + 1, 0);
    lua_pushvalue(L, -1);
    lua_rawseti(L, -3, TD_UV_TAGS);
  }
  lua_remove(L, -2);
  t = lua_gettop(L);
  for (i = (int)td_rawlen(L, t) + 1; i <= upto; i++) { /* (upto 0: nothing grown) */
    lua_pushboolean(L, 0);
    lua_rawseti(L, t, i);
  }
  return t;
}

/* c:start(req[, others[, tag]]) -> id: adds the request to the transfers in flight (results come
   from wait, which hands back the tag in place of the id when one was given). It goes out at the
   next wait or perform, which drive every transfer in one multi step: a step here too would look
   at each transfer's socket once more per call (docs/design.md). */
static int td_start(lua_State *L) {
  td_client *c = td_check(L, 1);
  const char *what = "tiledesk.Client:start()";
  td_spec s;
  td_xfer *x;
  int tagged = lua_toboolean(L, 4), tags = 0; /* (false is no tag, as nil) */
  td_check_idle(L, c, "start called");
  lua_settop(L, 4);
  luaL_checktype(L, 2, LUA_TTABLE);
  td_prepare(L, c, td_gather(L, 2, td_request_keys, lua_toboolean(L, 3), what), &s, what, "start called");
  /* the tags table grown to the slot the transfer may take, after td_prepare (which may run a
     finalizer that starts a transfer of its own) and before td_launch, which runs no Lua: this
     may raise, and nothing has changed yet */
  if (tagged) {
    int slots;
    luaL_checkstack(L, 4, what);
    do { /* (a finalizer run meanwhile may have started transfers of its own: more slots) */
      slots = c->nxs;
      if (tags) lua_pop(L, 1);
      tags = td_tags(L, c, slots + 1);
    } while (c->nxs != slots);
    /* (or closed or entered the client: nothing has changed yet) */
    if (c->closed) return luaL_error(L, "tiledesk.Client is closed");
    td_check_idle(L, c, "start called");
  }
  s.many = 1;
  x = td_launch(L, c, &s);
  if (!x) return luaL_error(L, "%s: out of memory", what);
  if (tagged && x->slot > 0) { /* a key that holds a value already: nothing allocated */
    lua_pushvalue(L, 4);
    lua_rawseti(L, tags, x->slot);
    x->tagged = 1;
  }
  lua_pushinteger(L, x->id);
  return 1;
}

/* Pushes the tag of transfer x and takes it out of the tags table (which keeps the key). */
static void td_take_tag(lua_State *L, td_client *c, td_xfer *x) {
  int tags = td_tags(L, c, 0);
  lua_rawgeti(L, tags, x->slot);
  lua_pushboolean(L, 0);
  lua_rawseti(L, tags, x->slot);
  lua_remove(L, tags);
  x->tagged = 0;
}

/* c:wait([ms]) -> id, status, headers, body[, content_type] | id, nil, msg, err | nothing (none
   finished within ms, or none in flight); id: the tag start was given, if any. Without ms it
   waits until one finishes. */
static int td_wait(lua_State *L) {
  td_client *c = td_check(L, 1);
  long ms = -1;
  td_xfer *x;
  int fin;
  td_check_idle(L, c, "wait called");
  if (!lua_isnoneornil(L, 2)) {
    lua_Number n = luaL_checknumber(L, 2);
    if (!(n >= 0 && n <= 2147483647.0)) return luaL_argerror(L, 2, "milliseconds between 0 and 2147483647");
    ms = (long)n;
  }
  lua_settop(L, 1);
  lua_pushcfunction(L, td_finish);
  lua_pushcfunction(L, td_call_sink);
  fin = 2;
  c->busy = 1;
  x = td_first_done(c, 0);
  if (!x && c->running[0] + c->running[1] > 0) {
    td_drive(L, c, NULL, ms, fin + 1);
    x = td_first_done(c, 0);
  }
  if (!x) {
    c->busy = 0;
    return 0;
  }
  if (x->tagged) td_take_tag(L, c, x);
  else lua_pushinteger(L, x->id);
  lua_replace(L, fin + 1); /* td_call_sink is no longer needed: its slot carries the id (or tag) */
  return 1 + td_results(L, c, x, fin);
}

/* c:cancel(id): stops a transfer started with start() and drops its result; unknown ids are
   ignored. */
static int td_cancel(lua_State *L) {
  td_client *c = td_check(L, 1);
  int id = (int)luaL_checkinteger(L, 2);
  td_xfer *x;
  td_check_idle(L, c, "cancel called");
  x = td_xfer_find(c, id);
  if (x) {
    if (x->sink) {
      td_getuservalue(L, 1);
      lua_pushnil(L);
      lua_rawseti(L, -2, id);
      lua_pop(L, 1);
    }
    if (x->tagged) {
      td_take_tag(L, c, x);
      lua_pop(L, 1);
    }
    td_xfer_recycle(c, x);
  }
  return 0;
}

/* Stops run_many's transfers still in flight (a result could not be built: out of memory). */
static void td_many_abort(td_client *c) {
  int i;
  for (i = 0; i < c->nxs; i++)
    if (c->xs[i]->many_i && c->xs[i]->state != TD_X_IDLE) {
      c->xs[i]->many_i = 0;
      td_xfer_recycle(c, c->xs[i]);
    }
  c->busy = 0;
}

/* How many transfers are started and not yet taken. */
static int td_count_pending(const td_client *c) {
  int i, n = 0;
  for (i = 0; i < c->nxs; i++)
    if (c->xs[i]->state != TD_X_IDLE) n++;
  return n;
}

/*
 * c:run_many(req, urls, concurrency) -> k, status, head, body, ctype, started: the request req
 * (as start takes it; its url is the first of urls, and none may stream to a sink) made for
 * each URL of the array urls in turn, at most `concurrency` in flight on the handle of many, with
 * no Lua between the transfers. It returns once every URL has been made, or at once when a
 * transfer ends with no response or a status outside 2xx (or no transfer slot could be had):
 * urls[1..k] were started. The other values are arrays: for each call that ended, status
 * (false: no response), head and body (the message and the error table when there was no
 * response), ctype (false when none); for each still in flight then, status is nil and head its
 * transfer's id: it goes on as one started with start, tagged with its index (wait hands back
 * i; cancel takes the id). started: td_clock_ms when each went out (the caller's deadlines).
 * Nothing else may be in flight on the client. The loop of a batch whose calls all are plain
 * requests (docs/design.md).
 */
static int td_run_many(lua_State *L) {
  td_client *c = td_check(L, 1);
  const char *what = "tiledesk.Client:run_many()";
  td_spec s;
  lua_Integer conc;
  int n, i, next = 1, inflight = 0, stop = 0, fin, f, res, tags;
  td_check_idle(L, c, "run_many called");
  lua_settop(L, 4);
  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_checktype(L, 3, LUA_TTABLE);
  conc = luaL_checkinteger(L, 4);
  if (conc < 1 || conc > 1024) return luaL_argerror(L, 4, "an integer from 1 to 1024");
  n = (int)td_rawlen(L, 3);
  if (td_count_pending(c)) return luaL_error(L, "%s: transfers started with start are in flight", what);
  for (i = 1; i <= n; i++) { /* every URL is checked before anything goes out */
    size_t ul;
    const char *u;
    lua_rawgeti(L, 3, i);
    if (lua_type(L, -1) != LUA_TSTRING) return luaL_error(L, "%s: URL #%d must be a string", what, i);
    u = lua_tolstring(L, -1, &ul);
    if (td_has_ctl_or_space(u, ul)) return luaL_error(L, "%s: URL #%d contains a control character or space", what, i);
    lua_pop(L, 1);
  }
  f = td_gather(L, 2, td_request_keys, 1, what);
  fin = td_prepare(L, c, f, &s, what, "run_many called");
  if (s.sink) return luaL_error(L, "%s: a request of run_many cannot stream to a sink", what);
  luaL_checkstack(L, 12, what);
  /* everything that allocates comes first: the five arrays, and the tags table grown over every
     slot the transfers may take (at most conc are taken at once, idle slots first) */
  res = lua_gettop(L) + 1;
  for (i = 0; i < 5; i++) lua_createtable(L, n, 0);
  tags = td_tags(L, c, (c->nxs > (int)conc ? c->nxs : (int)conc) + 1);
  /* then, with nothing that allocates until busy is set, what a finalizer may have done meanwhile
     (closed or entered the client, started a transfer) is checked again */
  if (c->closed) return luaL_error(L, "tiledesk.Client is closed");
  td_check_idle(L, c, "run_many called");
  if (td_count_pending(c)) return luaL_error(L, "%s: transfers started with start are in flight", what);
  s.many = 1;
  c->busy = 1;
  for (;;) {
    td_xfer *x;
    while (!stop && next <= n && inflight < conc) { /* no Lua runs from here to td_begin's end */
      lua_rawgeti(L, 3, next);
      if (lua_type(L, -1) != LUA_TSTRING) { /* (a finalizer changed urls: the rest is the caller's) */
        lua_pop(L, 1);
        stop = 1;
        break;
      }
      s.url = lua_tolstring(L, -1, &s.ulen); /* (copied by td_begin: the string may go after the pop) */
      x = td_begin(c, &s, c->next_id + 1);
      lua_pop(L, 1);
      if (!x) { /* no transfer slot: the calls not started are the caller's to make */
        stop = 1;
        break;
      }
      x->many_i = next;
      lua_pushnumber(L, td_clock_ms());
      lua_rawseti(L, res + 4, next++); /* (an array made with room for n: no allocation) */
      inflight++;
    }
    if (stop || inflight == 0) break;
    x = td_first_done(c, 1);
    if (!x) { /* (td_drive returns when any transfer is done: only run_many's can be, checked above) */
      td_drive(L, c, NULL, -1, fin + 1);
      continue;
    }
    { /* its results into the arrays at its index, under lua_pcall (they allocate) */
      int top = lua_gettop(L), got, at = x->many_i, ok;
      lua_pushvalue(L, fin);
      lua_pushvalue(L, 1);
      lua_pushlightuserdata(L, x);
      ok = lua_pcall(L, 2, LUA_MULTRET, 0) == 0;
      inflight--;
      x->many_i = 0;
      td_xfer_recycle(c, x);
      if (!ok) {
        td_many_abort(c);
        return lua_error(L);
      }
      got = lua_gettop(L) - top;
      if (lua_isnil(L, top + 1)) { /* nil, msg, err */
        lua_pushboolean(L, 0);
        lua_replace(L, top + 1);
        stop = 1;
      } else {
        lua_Integer st = lua_tointeger(L, top + 1);
        if (st < 200 || st >= 300) stop = 1;
      }
      for (; got < 4; got++) lua_pushboolean(L, 0);
      lua_settop(L, top + 4);
      for (i = 3; i >= 0; i--) { /* (no allocation either) */
        if (lua_isnil(L, -1)) {
          lua_pop(L, 1);
          lua_pushboolean(L, 0);
        }
        lua_rawseti(L, res + i, at);
      }
    }
  }
  /* those still in flight, or ended and not taken, go on as transfers of start, tagged with their
     index (keys that hold a value already, in arrays made with room: nothing allocates) */
  for (i = 0; i < c->nxs; i++) {
    td_xfer *x = c->xs[i];
    if (!x->many_i) continue;
    lua_pushinteger(L, x->many_i);
    lua_rawseti(L, tags, x->slot);
    x->tagged = 1;
    lua_pushinteger(L, x->id);
    lua_rawseti(L, res + 1, x->many_i);
    x->many_i = 0;
  }
  c->busy = 0;
  lua_settop(L, res + 4);
  lua_pushinteger(L, next - 1);
  lua_insert(L, res);
  return 6;
}

/* c:pending() -> transfers started and not yet taken by wait() */
static int td_pending(lua_State *L) {
  td_client *c = td_check(L, 1);
  lua_pushinteger(L, td_count_pending(c));
  return 1;
}

/* ---------- credentials ---------- */

static const char *const td_cred_keys[] = {"mode", "email", "password", "token", NULL};
static const char *const td_modes[] = {"none", "basic", "jwt", NULL};

/* Copies an optional secret string (nil -> *out = NULL). Returns 0, or -1 when memory ran out. */
static int td_copy_secret(const char *s, size_t n, char **out) {
  *out = NULL;
  if (!s) return 0;
  *out = td_strdup(s, n);
  return *out ? 0 : -1;
}

/* All or nothing: every value is checked and copied before the old ones are wiped. */
static int td_set_credentials(lua_State *L) {
  td_client *c = td_check(L, 1);
  const char *what = "tiledesk.Client:set_credentials()";
  size_t el = 0, pl = 0, tl = 0;
  const char *email, *password, *token;
  char *ne = NULL, *np = NULL, *nt = NULL;
  int mode;
  td_check_idle(L, c, "credentials changed");
  lua_settop(L, 2);
  luaL_checktype(L, 2, LUA_TTABLE);
  td_check_keys(L, 2, td_cred_keys, what);
  mode = td_opt_choice(L, 2, "mode", TD_AUTH_NONE, td_modes, what);
  email = td_opt_string(L, 2, "email", &el, what); /* these stay on the stack */
  password = td_opt_string(L, 2, "password", &pl, what);
  token = td_opt_string(L, 2, "token", &tl, what);
  if (email && td_has_crlfnul(email, el)) return luaL_error(L, "%s: option 'email' contains CR, LF or NUL", what);
  if (password && td_has_crlfnul(password, pl))
    return luaL_error(L, "%s: option 'password' contains CR, LF or NUL", what);
  if (token && td_bad_field_value(token, tl))
    return luaL_error(L, "%s: option 'token' contains a control character", what);
  if (mode == TD_AUTH_BASIC && !(email && password))
    return luaL_error(L, "%s: mode 'basic' needs email and password", what);
  if (td_copy_secret(email, el, &ne) || td_copy_secret(password, pl, &np) || td_copy_secret(token, tl, &nt)) {
    td_free_secret(&ne);
    td_free_secret(&np);
    td_free_secret(&nt);
    return luaL_error(L, "%s: out of memory", what);
  }
  td_free_secret(&c->email);
  td_free_secret(&c->password);
  td_free_secret(&c->token);
  c->email = ne;
  c->password = np;
  c->token = nt;
  c->mode = mode;
  td_credentials_changed(c);
  return 0;
}

/* Replaces (or with nil drops) the JWT; the old one stays when the new one is refused. */
static int td_set_token(lua_State *L) {
  td_client *c = td_check(L, 1);
  size_t n = 0;
  const char *t = NULL;
  char *nt;
  td_check_idle(L, c, "credentials changed");
  if (!lua_isnoneornil(L, 2)) t = luaL_checklstring(L, 2, &n);
  if (t && td_bad_field_value(t, n)) return luaL_error(L, "tiledesk.Client:set_token(): the token contains a control character");
  if (td_copy_secret(t, n, &nt)) return luaL_error(L, "tiledesk.Client:set_token(): out of memory");
  td_free_secret(&c->token);
  c->token = nt;
  if (c->token) c->mode = TD_AUTH_JWT;
  td_credentials_changed(c);
  return 0;
}

static int td_get_auth_kind(lua_State *L) {
  td_client *c = td_check(L, 1);
  lua_pushstring(L, td_auth_kind(c));
  return 1;
}

static int td_can_signin(lua_State *L) {
  td_client *c = td_check(L, 1);
  lua_pushboolean(L, c->email != NULL && c->password != NULL);
  return 1;
}

/* ---------- lifecycle ---------- */

/* Frees everything the client holds; safe on a half-built client and when run twice. */
static void td_release(td_client *c) {
  int i;
  if (c->closed) return;
  c->closed = 1;
  for (i = 0; i < c->nxs; i++) {
    if (c->xs[i]->state == TD_X_RUNNING && c->multi[c->xs[i]->many])
      curl_multi_remove_handle(c->multi[c->xs[i]->many], c->xs[i]->easy);
    td_xfer_destroy(c->xs[i]);
  }
  free(c->xs);
  c->xs = NULL;
  if (c->solo) td_xfer_destroy(c->solo); /* closes its connections */
  c->solo = NULL;
  c->nxs = c->running[0] = c->running[1] = 0;
  for (i = 0; i < 2; i++) {
    if (c->multi[i]) curl_multi_cleanup(c->multi[i]); /* closes the cached connections */
    c->multi[i] = NULL;
  }
  free(c->pfd); /* (after the cleanups, whose socket callbacks still write there) */
  free(c->ready);
  free(c->pk);
  free(c->readyk);
  c->pfd = c->ready = NULL;
  c->pk = c->readyk = NULL;
  c->npfd = c->cap_pfd = 0;
  td_buf_free(&c->scratch, 1);
  td_buf_free(&c->hsig, 1);
  td_free_secret(&c->email);
  td_free_secret(&c->password);
  td_free_secret(&c->token);
  free(c->user_agent);
  free(c->ua_line);
  c->ua_line = NULL;
  free(c->cafile);
  free(c->capath);
  free(c->proxy);
  c->user_agent = c->cafile = c->capath = c->proxy = NULL;
}

/* close(), __close and __gc: one idempotent release. While C runs a call on this client (a
   finalizer or sink closing it), it raises instead: the transfer still uses what it holds. A
   collected client cannot be busy: the call running on it keeps it on the stack. */
static int td_close(lua_State *L) {
  td_client *c = (td_client *)luaL_checkudata(L, 1, TD_CLIENT_MT);
  td_check_idle(L, c, "close called");
  td_release(c);
  td_getuservalue(L, 1); /* the tags of transfers that were in flight are let go */
  if (lua_istable(L, -1)) {
    lua_rawgeti(L, -1, TD_UV_TAGS);
    if (!lua_isnil(L, -1)) { /* (a key that exists: setting it allocates nothing) */
      lua_pushnil(L);
      lua_rawseti(L, -3, TD_UV_TAGS);
    }
  }
  return 0;
}

static int td_is_closed(lua_State *L) {
  td_client *c = (td_client *)luaL_checkudata(L, 1, TD_CLIENT_MT);
  lua_pushboolean(L, c->closed);
  return 1;
}

static int td_tostring(lua_State *L) {
  td_client *c = (td_client *)luaL_checkudata(L, 1, TD_CLIENT_MT);
  if (c->closed) lua_pushstring(L, "tiledesk.Client (closed)");
  else lua_pushfstring(L, "tiledesk.Client (auth=%s)", td_auth_kind(c));
  return 1;
}

static const char *const td_new_keys[] = {"user_agent", "ssl_verify", "cafile", "capath", "proxy",
                                          "max_body_size", "timeout_ms", "connect_timeout_ms", NULL};

/* Copies an optional string option (stack top is the userdata; it stays there). */
static void td_dup_opt(lua_State *L, char **dst, const char *field, const char *what) {
  size_t n;
  const char *s = td_opt_string(L, 1, field, &n, what);
  if (s) {
    if (td_has_crlfnul(s, n)) luaL_error(L, "%s: option '%s' contains CR, LF or NUL", what, field);
    *dst = td_strdup(s, n);
    if (!*dst) luaL_error(L, "%s: out of memory", what);
  }
  lua_pop(L, 1);
}

/* core.new{...} -> client. Options are checked before anything is allocated; the userdata
   starts zeroed (td_release handles every field being empty), so a raise part-way through
   leaves a client that __gc releases. */
static int td_new(lua_State *L) {
  const char *what = "tiledesk.core.new()";
  td_client *c;
  lua_Number max_body = (lua_Number)TD_DEFAULT_MAX_BODY;
  int ssl_verify, no_proxy = 0;
  long timeout_ms, connect_ms;
  if (lua_isnoneornil(L, 1)) {
    lua_settop(L, 0);
    lua_newtable(L);
  }
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  td_check_keys(L, 1, td_new_keys, what);
  lua_getfield(L, 1, "max_body_size");
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TNUMBER)
      return luaL_error(L, "%s: option 'max_body_size' must be a number (got %s)", what, luaL_typename(L, -1));
    max_body = lua_tonumber(L, -1);
    if (!(max_body >= 0 && max_body < 9.0e15))
      return luaL_error(L, "%s: option 'max_body_size' must be between 0 and 9e15 bytes", what);
  }
  lua_pop(L, 1);
  lua_getfield(L, 1, "proxy");
  if (lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1)) no_proxy = 1;
  else if (!lua_isnil(L, -1) && lua_type(L, -1) != LUA_TSTRING)
    return luaL_error(L, "%s: option 'proxy' must be a string or false (got %s)", what,
                      lua_type(L, -1) == LUA_TBOOLEAN ? "true" : luaL_typename(L, -1));
  lua_pop(L, 1);
  ssl_verify = td_opt_bool(L, 1, "ssl_verify", 1, what);
  timeout_ms = td_opt_ms(L, 1, "timeout_ms", 15000, what);
  connect_ms = td_opt_ms(L, 1, "connect_timeout_ms", 5000, what);
  {
    size_t n;
    int i;
    static const char *const strs[] = {"user_agent", "cafile", "capath", NULL};
    for (i = 0; strs[i]; i++) {
      const char *s = td_opt_string(L, 1, strs[i], &n, what);
      if (s && td_has_crlfnul(s, n)) return luaL_error(L, "%s: option '%s' contains CR, LF or NUL", what, strs[i]);
      lua_pop(L, 1);
    }
    if (!no_proxy) {
      const char *s = td_opt_string(L, 1, "proxy", &n, what);
      if (s && td_has_crlfnul(s, n)) return luaL_error(L, "%s: option 'proxy' contains CR, LF or NUL", what);
      lua_pop(L, 1);
    }
  }

  c = (td_client *)td_newuserdata(L, sizeof *c);
  memset(c, 0, sizeof *c);
  td_buf_init(&c->scratch);
  td_buf_init(&c->hsig);
  c->hkept = -1;
  c->timer_at[0] = c->timer_at[1] = -1.0;
  c->mref[0].c = c->mref[1].c = c;
  c->mref[1].k = 1;
  luaL_getmetatable(L, TD_CLIENT_MT);
  lua_setmetatable(L, -2);
  /* the user value: sinks of transfers in flight by transfer id (1, 2, ...), the last Content-Type
     at 0, the kept header lines at -1 to -2 * TD_HKEPT_MAX, the tags table at TD_UV_TAGS */
  lua_newtable(L);
  td_setuservalue(L, -2);
  c->max_body = (curl_off_t)max_body;
  c->ctype_len = (size_t)-1;
  c->ssl_verify = ssl_verify;
  c->timeout_ms = timeout_ms;
  c->connect_timeout_ms = connect_ms;
  c->no_proxy = no_proxy;
  td_dup_opt(L, &c->cafile, "cafile", what);
  td_dup_opt(L, &c->capath, "capath", what);
  if (!no_proxy) td_dup_opt(L, &c->proxy, "proxy", what);
  td_dup_opt(L, &c->user_agent, "user_agent", what);
  if (!c->user_agent) {
    /* the SDK and its version only: libcurl formats request header lines a byte at a time, so
       every byte of a line sent on every request costs (core.curl_version tells libcurl's) */
    static const char ua[] = "tiledesk-lua/" TD_VERSION;
    c->user_agent = td_strdup(ua, sizeof ua - 1);
    if (!c->user_agent) return luaL_error(L, "%s: out of memory", what);
  }
  c->ua_line = (char *)malloc(strlen(c->user_agent) + sizeof "User-Agent: ");
  if (!c->ua_line) return luaL_error(L, "%s: out of memory", what);
  memcpy(c->ua_line, "User-Agent: ", sizeof "User-Agent: " - 1);
  memcpy(c->ua_line + sizeof "User-Agent: " - 1, c->user_agent, strlen(c->user_agent) + 1);
  return 1; /* transfers and caches are made on first use (td_begin) */
}

/* ---------- clock ---------- */

static int td_now_ms(lua_State *L) {
  lua_pushnumber(L, (lua_Number)td_clock_ms());
  return 1;
}

static int td_sleep_ms(lua_State *L) {
  lua_Number ms = luaL_checknumber(L, 1);
  struct timespec req, rem;
  if (!(ms >= 0)) return luaL_argerror(L, 1, "must be a non-negative number");
  if (ms > 86400000.0) ms = 86400000.0;
  req.tv_sec = (time_t)(ms / 1000.0);
  req.tv_nsec = (long)((ms - (lua_Number)req.tv_sec * 1000.0) * 1.0e6);
  if (req.tv_nsec >= 1000000000L) req.tv_nsec = 999999999L;
  while (nanosleep(&req, &rem) != 0 && errno == EINTR) req = rem;
  return 0;
}

/* ---------- JSON numbers ---------- */

#if LUA_VERSION_NUM >= 503
/* Whether the float d holds an integral value in range, as math.tointeger takes it (*i: that
   integer). lua_tointegerx asks more of the VM. */
static int td_integral(lua_Number d, lua_Integer *i) {
  return lua_numbertointeger(d, i) && (lua_Number)*i == d;
}

/* Each level holds a key and a value on the stack and pushes two more to convert one: the stack
   is checked once every 8 levels, for the next 8 (LUA_MINSTACK, 20, is free at depth 0). */
static void td_integers_in(lua_State *L, int t, int depth) {
  if (depth > 200) return;
  if (depth > 0 && depth % 8 == 0) luaL_checkstack(L, 2 * 8 + 4, "tiledesk.core.integers()");
  lua_pushnil(L);
  while (lua_next(L, t) != 0) {
    int type = lua_type(L, -1);
    if (type == LUA_TNUMBER) {
      if (!lua_isinteger(L, -1)) {
        lua_Integer i;
        if (td_integral(lua_tonumber(L, -1), &i)) { /* an existing key: rawset neither allocates nor raises */
          lua_pushvalue(L, -2);
          lua_pushinteger(L, i);
          lua_rawset(L, t);
        }
      }
    } else if (type == LUA_TTABLE) {
      td_integers_in(L, lua_gettop(L), depth + 1);
    }
    lua_pop(L, 1);
  }
}
#endif

/* core.integers(v) -> v, is_table: every float of v (a table, walked raw to a depth of 200; or v
   itself, a number) that holds an integral value in range becomes an integer, as math.tointeger
   would make it (lua-cjson decodes every number as a float). Converts nothing before Lua 5.3.
   is_table: whether v is a table (a decoded JSON object or array: the caller needs no type()). */
static int td_integers(lua_State *L) {
  int t;
  lua_settop(L, 1);
  t = lua_type(L, 1);
#if LUA_VERSION_NUM >= 503
  if (t == LUA_TTABLE) {
    td_integers_in(L, 1, 0);
  } else if (t == LUA_TNUMBER && !lua_isinteger(L, 1)) {
    lua_Integer i;
    if (td_integral(lua_tonumber(L, 1), &i)) {
      lua_pushinteger(L, i);
      lua_replace(L, 1);
    }
  }
#endif
  lua_pushboolean(L, t == LUA_TTABLE);
  return 2;
}

/* core.headers(block) -> the table perform gives without raw_headers (lower-case names, repeats
   as arrays; the first line, a status line, is no field). */
static int td_headers(lua_State *L) {
  size_t n;
  const char *p = luaL_checklstring(L, 1, &n);
  td_push_headers(L, p, n);
  return 1;
}

/* ---------- module ---------- */

static const luaL_Reg td_client_methods[] = {
    {"perform", td_perform},
    {"send", td_send},
    {"start", td_start},
    {"wait", td_wait},
    {"run_many", td_run_many},
    {"cancel", td_cancel},
    {"pending", td_pending},
    {"set_credentials", td_set_credentials},
    {"set_token", td_set_token},
    {"auth_kind", td_get_auth_kind},
    {"can_signin", td_can_signin},
    {"close", td_close},
    {"is_closed", td_is_closed},
    {NULL, NULL}};

static const luaL_Reg td_module_functions[] = {
    {"new", td_new}, {"now_ms", td_now_ms}, {"sleep_ms", td_sleep_ms}, {"integers", td_integers},
    {"headers", td_headers}, {NULL, NULL}};

int luaopen_tiledesk_core(lua_State *L);

int luaopen_tiledesk_core(lua_State *L) {
  int i;
  if (luaL_newmetatable(L, TD_CLIENT_MT)) {
    lua_pushstring(L, TD_CLIENT_MT);
    lua_setfield(L, -2, "__name");
    lua_newtable(L);
    for (i = 0; td_client_methods[i].name; i++) { /* each with the metatable as upvalue (td_check) */
      lua_pushvalue(L, -2);
      lua_pushcclosure(L, td_client_methods[i].func, 1);
      lua_setfield(L, -2, td_client_methods[i].name);
    }
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, td_close);
    lua_setfield(L, -2, "__gc");
#if LUA_VERSION_NUM >= 504
    lua_pushcfunction(L, td_close);
    lua_setfield(L, -2, "__close");
#endif
    lua_pushcfunction(L, td_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, "tiledesk.Client");
    lua_setfield(L, -2, "__metatable");
  }
  lua_pop(L, 1);
  lua_newtable(L);
  td_setfuncs(L, td_module_functions);
  lua_pushliteral(L, TD_VERSION);
  lua_setfield(L, -2, "_VERSION");
  lua_pushstring(L, curl_version_info(CURLVERSION_NOW)->version);
  lua_setfield(L, -2, "curl_version");
  return 1;
}
