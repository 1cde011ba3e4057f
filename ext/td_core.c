/*
 * tiledesk.core: a libcurl client userdata for the tiledesk Lua SDK.
 *
 * C moves bytes: it validates a request, applies the credentials it holds, performs the call
 * on one reused easy handle and hands back status, headers and body. It never decodes JSON,
 * never calls Lua from a libcurl callback and never raises while libcurl is running or while
 * it holds memory that only a local variable knows about.
 */
#define _POSIX_C_SOURCE 200809L

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "td_buf.h"
#include "td_compat.h"

#define TD_VERSION "0.1.0"
#define TD_CLIENT_MT "tiledesk.Client"
#define TD_DEFAULT_MAX_BODY ((curl_off_t)64 * 1024 * 1024)

enum { TD_AUTH_NONE = 0, TD_AUTH_BASIC = 1, TD_AUTH_JWT = 2 };
enum { TD_SEND_CREDENTIALS, TD_SEND_NONE, TD_SEND_SIGNIN, TD_SEND_HEADER };

/* Per-request state. Kept apart from the client so a later curl-multi path can own many. */
typedef struct td_req {
  td_buf body;        /* response body */
  td_buf head;        /* header lines of the last response ("HTTP/..." resets it) */
  curl_off_t max_body;
  int too_large;
  int head_done;      /* the empty line that ends the header block of the last response came */
} td_req;

typedef struct td_client {
  CURL *easy;
  struct curl_slist *slist;
  char errbuf[CURL_ERROR_SIZE];
  td_req req;
  td_buf scratch;     /* the Authorization value and the sign-in body; wiped after use */
  char *email, *password, *token; /* malloc'd copies, wiped when replaced or closed */
  int mode;           /* TD_AUTH_BASIC or TD_AUTH_JWT: what the credentials are for */
  char *user_agent, *cafile, *capath, *proxy;
  int ssl_verify;
  long timeout_ms, connect_timeout_ms;
  curl_off_t max_body;
  int busy, closed;
} td_client;

static int td_global_ready = 0;

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

static int td_has_ctl(const char *s, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0') return 1;
  return 0;
}

static int td_is_token(const char *s, size_t n) {
  size_t i;
  if (n == 0) return 0;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c <= 32 || c >= 127 || strchr("()<>@,;:\\\"/[]?={}", c)) return 0;
  }
  return 1;
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

static td_client *td_check(lua_State *L, int idx) {
  td_client *c = (td_client *)luaL_checkudata(L, idx, TD_CLIENT_MT);
  if (c->closed) luaL_error(L, "tiledesk.Client is closed");
  return c;
}

/* Raises unless every key of the table at idx is one of the names. */
static void td_check_keys(lua_State *L, int idx, const char *const *names, const char *what) {
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    const char *k;
    int i, ok = 0;
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING) luaL_error(L, "%s: option names must be strings", what);
    k = lua_tostring(L, -1);
    for (i = 0; names[i]; i++)
      if (strcmp(k, names[i]) == 0) ok = 1;
    if (!ok) luaL_error(L, "%s: unknown option '%s'", what, k);
  }
}

/* Optional string field; NULL when absent. Raises on a wrong type. The value stays pushed on
   the stack, which keeps the string alive whatever happens to the table. */
static const char *td_opt_string(lua_State *L, int idx, const char *field, size_t *len, const char *what) {
  const char *s = NULL;
  lua_getfield(L, idx, field);
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TSTRING)
      luaL_error(L, "%s: option '%s' must be a string (got %s)", what, field, luaL_typename(L, -1));
    s = lua_tolstring(L, -1, len);
  }
  return s;
}

static long td_opt_ms(lua_State *L, int idx, const char *field, long dflt, const char *what) {
  long v = dflt;
  lua_getfield(L, idx, field);
  if (!lua_isnil(L, -1)) {
    lua_Number n;
    if (lua_type(L, -1) != LUA_TNUMBER)
      luaL_error(L, "%s: option '%s' must be a number (got %s)", what, field, luaL_typename(L, -1));
    n = lua_tonumber(L, -1);
    if (!(n >= 0 && n <= 2147483647.0)) luaL_error(L, "%s: option '%s' out of range", what, field);
    v = (long)n;
  }
  lua_pop(L, 1);
  return v;
}

static int td_opt_bool(lua_State *L, int idx, const char *field, int dflt, const char *what) {
  int v = dflt;
  lua_getfield(L, idx, field);
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TBOOLEAN)
      luaL_error(L, "%s: option '%s' must be a boolean (got %s)", what, field, luaL_typename(L, -1));
    v = lua_toboolean(L, -1);
  }
  lua_pop(L, 1);
  return v;
}

/* ---------- libcurl callbacks: never touch Lua here ---------- */

static size_t td_on_body(char *ptr, size_t size, size_t nmemb, void *ud) {
  td_req *r = (td_req *)ud;
  size_t n = size * nmemb;
  if (r->max_body > 0 && (curl_off_t)(r->body.len + n) > r->max_body) {
    r->too_large = 1;
    return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
  }
  if (td_buf_add(&r->body, ptr, n) != 0) return 0;
  return n;
}

static size_t td_on_header(char *ptr, size_t size, size_t nmemb, void *ud) {
  td_req *r = (td_req *)ud;
  size_t n = size * nmemb;
  if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0) {
    /* a new response starts (after 100 Continue or a proxy CONNECT): keep only the last */
    td_buf_reset(&r->head, 0);
    r->body.len = 0;
    r->head_done = 0;
  } else if ((n == 2 && ptr[0] == '\r' && ptr[1] == '\n') || (n == 1 && ptr[0] == '\n')) {
    r->head_done = 1;
  }
  if (td_buf_add(&r->head, ptr, n) != 0) return 0;
  return n;
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

static int td_append_auth(td_client *c) {
  struct curl_slist *s;
  td_buf_reset(&c->scratch, 1);
  if (td_buf_adds(&c->scratch, "Authorization: ")) return -1;
  if (c->mode == TD_AUTH_BASIC && c->email && c->password) {
    td_buf pair;
    int rc;
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
  s = curl_slist_append(c->slist, c->scratch.data);
  td_buf_reset(&c->scratch, 1);
  if (s == NULL) return -1;
  c->slist = s;
  return 0;
}

static const char *td_auth_kind(const td_client *c) {
  if (c->mode == TD_AUTH_BASIC && c->email && c->password) return "basic";
  if (c->mode == TD_AUTH_JWT && c->token) return "jwt";
  return "none";
}

/* ---------- error mapping ---------- */

static const char *td_kind_of(CURLcode rc, int too_large) {
  switch (rc) {
    case CURLE_OPERATION_TIMEDOUT: return "timeout";
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return "resolve";
    case CURLE_COULDNT_CONNECT: return "connect";
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
    case CURLE_WRITE_ERROR: return too_large ? "too_large" : "transport";
    default: return "transport";
  }
}

/* Pushes nil, msg, err. The URL in the message loses its query (it may carry a secret). */
static int td_push_failure(lua_State *L, const char *method, const char *url, const char *kind, int code,
                           const char *detail) {
  size_t ul = strcspn(url, "?#");
  lua_pushnil(L);
  {
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, method);
    luaL_addchar(&b, ' ');
    luaL_addlstring(&b, url, ul);
    luaL_addstring(&b, ": ");
    luaL_addstring(&b, kind);
    if (detail && *detail) {
      luaL_addstring(&b, " (");
      luaL_addstring(&b, detail);
      luaL_addchar(&b, ')');
    }
    luaL_pushresult(&b);
  }
  lua_createtable(L, 0, 2);
  lua_pushstring(L, kind);
  lua_setfield(L, -2, "kind");
  if (code >= 0) {
    lua_pushinteger(L, code);
    lua_setfield(L, -2, "code");
  }
  return 3;
}

/* ---------- perform ---------- */

static const char *const td_perform_keys[] = {"method", "url", "headers", "body", "timeout_ms",
                                              "connect_timeout_ms", "auth", NULL};
static const char *const td_send_modes[] = {"credentials", "none", "signin", "header", NULL};

/* Turns the collected header block into a table: lower-case names, repeats as arrays. */
static void td_push_headers(lua_State *L, const td_buf *head) {
  const char *p = head->data ? head->data : "";
  const char *end = p + head->len;
  int first = 1;
  lua_newtable(L);
  while (p < end) {
    const char *eol = (const char *)memchr(p, '\n', (size_t)(end - p));
    const char *line_end = eol ? eol : end;
    const char *colon, *v, *ve;
    size_t i, nl;
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
      luaL_Buffer b;
      nl = (size_t)(colon - p);
      luaL_buffinit(L, &b);
      for (i = 0; i < nl; i++) {
        char ch = p[i];
        luaL_addchar(&b, (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch);
      }
      luaL_pushresult(&b);
      v = colon + 1;
      while (v < line_end && (*v == ' ' || *v == '\t')) v++;
      ve = line_end;
      while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) ve--;
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

static void td_release_request(td_client *c) {
  if (c->slist) {
    curl_slist_free_all(c->slist);
    c->slist = NULL;
  }
  td_buf_reset(&c->scratch, 1);
}

/* Headers the transport manages itself: a caller's copy would break the framing. */
static int td_managed_header(const char *n, size_t nl) {
  static const char *const managed[] = {"content-length", "transfer-encoding", "expect", "connection", NULL};
  int i;
  for (i = 0; managed[i]; i++)
    if (strlen(managed[i]) == nl && td_strncaseeq(n, managed[i], nl)) return 1;
  return 0;
}

/*
 * Builds the results of a perform, inside lua_pcall (it allocates, so it may raise or run
 * finalizers): status, headers, body or nil, msg, err.
 * Arguments: the client (light userdata), the CURLcode, the method and the URL strings.
 */
static int td_finish(lua_State *L) {
  td_client *c = (td_client *)lua_touserdata(L, 1);
  CURLcode rc = (CURLcode)lua_tointeger(L, 2);
  const char *method = lua_tostring(L, 3), *url = lua_tostring(L, 4);
  lua_settop(L, 4);
  if (rc == CURLE_OK && !c->req.head_done) {
    return td_push_failure(L, method, url, "transport", (int)CURLE_PARTIAL_FILE,
                           "the connection closed before the end of the response headers");
  }
  if (rc != CURLE_OK) {
    const char *kind = td_kind_of(rc, c->req.too_large);
    char detail[CURL_ERROR_SIZE + 64];
    if (strcmp(kind, "too_large") == 0)
      snprintf(detail, sizeof detail, "response larger than max_body_size %ld bytes, curl %d", (long)c->max_body,
               (int)rc);
    else
      snprintf(detail, sizeof detail, "%s, curl %d", c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc), (int)rc);
    return td_push_failure(L, method, url, kind, (int)rc, detail);
  }
  {
    long status = 0;
    curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
    lua_pushinteger(L, (lua_Integer)status);
    td_push_headers(L, &c->req.head);
    lua_pushlstring(L, c->req.body.data ? c->req.body.data : "", c->req.body.len);
  }
  return 3;
}

/* Stack slots of perform, fixed so that every string stays anchored while C uses it. */
enum { TD_S_METHOD = 3, TD_S_URL, TD_S_BODY, TD_S_LINES, TD_S_FINISH, TD_S_TOP = TD_S_FINISH };

static int td_perform(lua_State *L) {
  td_client *c = td_check(L, 1);
  const char *what = "tiledesk.Client:perform()";
  const char *method, *url, *body = NULL;
  size_t mlen, ulen, blen = 0;
  long timeout_ms, connect_ms;
  int send_mode, rc_ok, nlines, i;
  CURLcode rc;
  CURL *e;

  if (c->busy) return luaL_error(L, "tiledesk.Client is busy (perform called from inside perform)");
  lua_settop(L, 2);
  luaL_checktype(L, 2, LUA_TTABLE);
  luaL_checkstack(L, 16, what);

  /*
   * 1. validate and anchor: every value C will use is copied onto the stack (slots above), so a
   * finalizer that changes the request table cannot pull a string from under us. This phase may
   * raise or run finalizers; it changes nothing in the client.
   */
  td_check_keys(L, 2, td_perform_keys, what);
  lua_getfield(L, 2, "method"); /* TD_S_METHOD */
  if (lua_isnil(L, TD_S_METHOD)) {
    lua_pop(L, 1);
    lua_pushliteral(L, "GET");
  } else if (lua_type(L, TD_S_METHOD) != LUA_TSTRING) {
    return luaL_error(L, "%s: option 'method' must be a string", what);
  }
  method = lua_tolstring(L, TD_S_METHOD, &mlen);
  if (!td_is_token(method, mlen)) return luaL_error(L, "%s: invalid method", what);
  lua_getfield(L, 2, "url"); /* TD_S_URL */
  if (lua_type(L, TD_S_URL) != LUA_TSTRING) return luaL_error(L, "%s: option 'url' is required (a string)", what);
  url = lua_tolstring(L, TD_S_URL, &ulen);
  for (i = 0; (size_t)i < ulen; i++) {
    unsigned char ch = (unsigned char)url[i];
    if (ch <= 32 || ch == 127) return luaL_error(L, "%s: url contains a control character or space", what);
  }
  lua_getfield(L, 2, "body"); /* TD_S_BODY */
  if (!lua_isnil(L, TD_S_BODY)) {
    if (lua_type(L, TD_S_BODY) != LUA_TSTRING) return luaL_error(L, "%s: option 'body' must be a string", what);
    body = lua_tolstring(L, TD_S_BODY, &blen);
  }
  timeout_ms = td_opt_ms(L, 2, "timeout_ms", c->timeout_ms, what);
  connect_ms = td_opt_ms(L, 2, "connect_timeout_ms", c->connect_timeout_ms, what);
  lua_getfield(L, 2, "auth");
  send_mode = lua_isnil(L, -1) ? TD_SEND_CREDENTIALS : luaL_checkoption(L, -1, NULL, td_send_modes);
  lua_pop(L, 1);
  /* header lines "Name: value", composed now (string conversion of numbers allocates) */
  lua_newtable(L); /* TD_S_LINES */
  nlines = 0;
  lua_getfield(L, 2, "headers");
  if (!lua_isnil(L, -1)) {
    int h = lua_gettop(L);
    luaL_checktype(L, h, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, h) != 0) {
      size_t nl, vl;
      const char *n, *v;
      if (lua_type(L, -2) != LUA_TSTRING) return luaL_error(L, "%s: header names must be strings", what);
      if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER)
        return luaL_error(L, "%s: header values must be strings", what);
      n = lua_tolstring(L, -2, &nl);
      if (!td_is_token(n, nl)) return luaL_error(L, "%s: invalid header name", what);
      if (td_managed_header(n, nl)) return luaL_error(L, "%s: header '%s' is set by the transport", what, n);
      lua_pushvalue(L, -1);
      v = lua_tolstring(L, -1, &vl);
      if (td_has_ctl(v, vl)) return luaL_error(L, "%s: header '%s' contains CR, LF or NUL", what, n);
      /* only auth='header' lets the caller speak for itself, whatever the case of the name */
      if (send_mode == TD_SEND_HEADER || !(nl == 13 && td_strncaseeq(n, "authorization", 13))) {
        lua_pushfstring(L, "%s: %s", n, v);
        lua_rawseti(L, TD_S_LINES, ++nlines);
      }
      lua_pop(L, 2);
    }
  }
  lua_settop(L, TD_S_LINES);
  lua_pushcfunction(L, td_finish); /* TD_S_FINISH: pushed now, so running it later needs no allocation */

  /* a finalizer run above may have closed this client, or be inside it */
  if (c->closed) return luaL_error(L, "tiledesk.Client is closed");
  if (c->busy) return luaL_error(L, "tiledesk.Client is busy (perform called from inside perform)");
  if (send_mode == TD_SEND_SIGNIN && !(c->email && c->password))
    return luaL_error(L, "%s: auth='signin' needs email and password credentials", what);

  /* 2. configure and run: from here on nothing raises and nothing allocates Lua memory */
  c->busy = 1;
  e = c->easy;
  curl_easy_reset(e);
  td_release_request(c);
  td_buf_reset(&c->req.body, 0);
  td_buf_reset(&c->req.head, 0);
  c->req.too_large = 0;
  c->req.head_done = 0;
  c->req.max_body = c->max_body;
  c->errbuf[0] = '\0';
  rc_ok = 1;

  for (i = 1; rc_ok && i <= nlines; i++) {
    struct curl_slist *s;
    lua_rawgeti(L, TD_S_LINES, i);
    s = curl_slist_append(c->slist, lua_tostring(L, -1));
    lua_pop(L, 1);
    if (s == NULL) rc_ok = 0;
    else c->slist = s;
  }
  if (rc_ok && send_mode == TD_SEND_CREDENTIALS && td_append_auth(c)) rc_ok = 0;
  if (rc_ok && send_mode == TD_SEND_SIGNIN) {
    td_buf_reset(&c->scratch, 1);
    if (td_buf_adds(&c->scratch, "{\"email\":") || td_add_json_string(&c->scratch, c->email) ||
        td_buf_adds(&c->scratch, ",\"password\":") || td_add_json_string(&c->scratch, c->password) ||
        td_buf_addc(&c->scratch, '}'))
      rc_ok = 0;
    else {
      struct curl_slist *s = curl_slist_append(c->slist, "Content-Type: application/json");
      if (!s) rc_ok = 0;
      else c->slist = s;
      body = c->scratch.data;
      blen = c->scratch.len;
    }
  }
  if (rc_ok) {
    struct curl_slist *s = curl_slist_append(c->slist, "Expect:");
    if (!s) rc_ok = 0;
    else c->slist = s;
  }

  if (!rc_ok) {
    rc = CURLE_OUT_OF_MEMORY;
  } else {
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, c->ssl_verify ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, c->ssl_verify ? 2L : 0L);
    if (c->cafile) curl_easy_setopt(e, CURLOPT_CAINFO, c->cafile);
    if (c->capath) curl_easy_setopt(e, CURLOPT_CAPATH, c->capath);
    if (c->proxy) curl_easy_setopt(e, CURLOPT_PROXY, c->proxy);
    curl_easy_setopt(e, CURLOPT_USERAGENT, c->user_agent);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->slist);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, td_on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &c->req);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, td_on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &c->req);
    if (c->max_body > 0) curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, c->max_body);

    if (mlen == 3 && memcmp(method, "GET", 3) == 0 && !body) {
      curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else if (mlen == 4 && memcmp(method, "HEAD", 4) == 0) {
      curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else {
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
      if (body || (mlen == 4 && memcmp(method, "POST", 4) == 0)) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body ? body : "");
      }
    }
    rc = curl_easy_perform(e);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, NULL);
  }
  td_release_request(c); /* also wipes the sign-in body */

  /* 3. results, built under lua_pcall: whatever happens there, busy is cleared below */
  lua_pushvalue(L, TD_S_FINISH);
  lua_pushlightuserdata(L, c);
  lua_pushinteger(L, (lua_Integer)rc);
  lua_pushvalue(L, TD_S_METHOD);
  lua_pushvalue(L, TD_S_URL);
  rc_ok = lua_pcall(L, 4, 3, 0) == 0;
  /* give large buffers back rather than keeping the biggest response ever seen */
  if (c->req.body.cap > 1024 * 1024) td_buf_free(&c->req.body, 0);
  else td_buf_reset(&c->req.body, 0);
  td_buf_reset(&c->req.head, 0);
  c->busy = 0;
  if (!rc_ok) return lua_error(L);
  return 3;
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

static void td_check_idle(lua_State *L, td_client *c) {
  if (c->busy) luaL_error(L, "tiledesk.Client is busy (credentials changed from inside perform)");
}

/* All or nothing: every value is checked and copied before the old ones are wiped. */
static int td_set_credentials(lua_State *L) {
  td_client *c = td_check(L, 1);
  const char *what = "tiledesk.Client:set_credentials()";
  size_t el = 0, pl = 0, tl = 0;
  const char *email, *password, *token = NULL;
  char *ne = NULL, *np = NULL, *nt = NULL;
  int mode;
  td_check_idle(L, c);
  lua_settop(L, 2);
  luaL_checktype(L, 2, LUA_TTABLE);
  td_check_keys(L, 2, td_cred_keys, what);
  lua_getfield(L, 2, "mode");
  mode = luaL_checkoption(L, -1, "none", td_modes);
  email = td_opt_string(L, 2, "email", &el, what);       /* these stay on the stack */
  password = td_opt_string(L, 2, "password", &pl, what);
  lua_getfield(L, 2, "token");
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TSTRING) return luaL_error(L, "%s: option 'token' must be a string", what);
    token = lua_tolstring(L, -1, &tl);
  }
  if ((email && td_has_ctl(email, el)) || (password && td_has_ctl(password, pl)))
    return luaL_error(L, "%s: email and password must not contain CR, LF or NUL", what);
  if (token && td_has_ctl(token, tl)) return luaL_error(L, "%s: token contains CR, LF or NUL", what);
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
  return 0;
}

/* Replaces (or with nil drops) the JWT; the old one stays when the new one is refused. */
static int td_set_token(lua_State *L) {
  td_client *c = td_check(L, 1);
  size_t n = 0;
  const char *t = NULL;
  char *nt;
  td_check_idle(L, c);
  if (!lua_isnoneornil(L, 2)) t = luaL_checklstring(L, 2, &n);
  if (t && td_has_ctl(t, n)) return luaL_error(L, "tiledesk.Client: token contains CR, LF or NUL");
  if (td_copy_secret(t, n, &nt)) return luaL_error(L, "tiledesk.Client: out of memory");
  td_free_secret(&c->token);
  c->token = nt;
  if (c->token) c->mode = TD_AUTH_JWT;
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

static void td_release(td_client *c) {
  if (c->closed) return;
  c->closed = 1;
  if (c->easy) curl_easy_cleanup(c->easy);
  c->easy = NULL;
  if (c->slist) curl_slist_free_all(c->slist);
  c->slist = NULL;
  td_buf_free(&c->req.body, 0);
  td_buf_free(&c->req.head, 0);
  td_buf_free(&c->scratch, 1);
  td_free_secret(&c->email);
  td_free_secret(&c->password);
  td_free_secret(&c->token);
  free(c->user_agent);
  free(c->cafile);
  free(c->capath);
  free(c->proxy);
  c->user_agent = c->cafile = c->capath = c->proxy = NULL;
}

static int td_close(lua_State *L) {
  td_client *c = (td_client *)luaL_checkudata(L, 1, TD_CLIENT_MT);
  if (c->busy) return luaL_error(L, "tiledesk.Client is busy (close called from inside perform)");
  td_release(c);
  return 0;
}

static int td_gc(lua_State *L) {
  td_client *c = (td_client *)luaL_checkudata(L, 1, TD_CLIENT_MT);
  if (!c->busy) td_release(c);
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

static int td_dup_opt(lua_State *L, char **dst, const char *field, const char *what) {
  size_t n;
  const char *s = td_opt_string(L, 1, field, &n, what);
  if (s) {
    if (td_has_ctl(s, n)) return luaL_error(L, "%s: option '%s' contains CR, LF or NUL", what, field);
    *dst = td_strdup(s, n);
    if (!*dst) return luaL_error(L, "%s: out of memory", what);
  }
  lua_pop(L, 1); /* copied: the userdata must stay on top */
  return 0;
}

static int td_new(lua_State *L) {
  const char *what = "tiledesk.core.new()";
  td_client *c;
  lua_Number max_body = (lua_Number)TD_DEFAULT_MAX_BODY;
  if (lua_isnoneornil(L, 1)) {
    lua_settop(L, 0);
    lua_newtable(L);
  }
  luaL_checktype(L, 1, LUA_TTABLE);
  td_check_keys(L, 1, td_new_keys, what);
  lua_getfield(L, 1, "max_body_size");
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TNUMBER) return luaL_error(L, "%s: option 'max_body_size' must be a number", what);
    max_body = lua_tonumber(L, -1);
    if (!(max_body >= 0 && max_body < 9.0e15)) return luaL_error(L, "%s: option 'max_body_size' out of range", what);
  }
  lua_pop(L, 1);

  c = (td_client *)td_newuserdata(L, sizeof *c);
  memset(c, 0, sizeof *c);
  td_buf_init(&c->req.body);
  td_buf_init(&c->req.head);
  td_buf_init(&c->scratch);
  c->closed = 1; /* until the handle exists, __gc has nothing to do */
  luaL_getmetatable(L, TD_CLIENT_MT);
  lua_setmetatable(L, -2);
  c->closed = 0;
  c->max_body = (curl_off_t)max_body;
  c->ssl_verify = td_opt_bool(L, 1, "ssl_verify", 1, what);
  c->timeout_ms = td_opt_ms(L, 1, "timeout_ms", 15000, what);
  c->connect_timeout_ms = td_opt_ms(L, 1, "connect_timeout_ms", 5000, what);
  td_dup_opt(L, &c->cafile, "cafile", what);
  td_dup_opt(L, &c->capath, "capath", what);
  td_dup_opt(L, &c->proxy, "proxy", what);
  td_dup_opt(L, &c->user_agent, "user_agent", what);
  if (!c->user_agent) {
    char ua[128];
    snprintf(ua, sizeof ua, "tiledesk-lua/%s libcurl/%s", TD_VERSION, curl_version_info(CURLVERSION_NOW)->version);
    c->user_agent = td_strdup(ua, strlen(ua));
    if (!c->user_agent) return luaL_error(L, "%s: out of memory", what);
  }
  c->easy = curl_easy_init();
  if (!c->easy) return luaL_error(L, "%s: curl_easy_init failed", what);
  return 1;
}

/* ---------- clock ---------- */

static int td_now_ms(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec * 1000.0 + (lua_Number)ts.tv_nsec / 1.0e6);
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

/* ---------- module ---------- */

static const luaL_Reg td_client_methods[] = {
    {"perform", td_perform},
    {"set_credentials", td_set_credentials},
    {"set_token", td_set_token},
    {"auth_kind", td_get_auth_kind},
    {"can_signin", td_can_signin},
    {"close", td_close},
    {"is_closed", td_is_closed},
    {NULL, NULL}};

static const luaL_Reg td_module_functions[] = {
    {"new", td_new}, {"now_ms", td_now_ms}, {"sleep_ms", td_sleep_ms}, {NULL, NULL}};

int luaopen_tiledesk_core(lua_State *L);

int luaopen_tiledesk_core(lua_State *L) {
  if (!td_global_ready) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return luaL_error(L, "tiledesk.core: curl_global_init failed");
    td_global_ready = 1;
  }
  if (luaL_newmetatable(L, TD_CLIENT_MT)) {
    lua_pushstring(L, TD_CLIENT_MT);
    lua_setfield(L, -2, "__name");
    lua_newtable(L);
    td_setfuncs(L, td_client_methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, td_gc);
    lua_setfield(L, -2, "__gc");
#if LUA_VERSION_NUM >= 504
    lua_pushcfunction(L, td_gc);
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
