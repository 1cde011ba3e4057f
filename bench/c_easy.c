/* The bench's baseline: N sequential GETs of one URL over one reused libcurl easy handle
 * (one keep-alive connection): Authorization and Accept, as the SDK sends them. Prints
 * "calls seconds bytes cpu_seconds" (user and system time of the loop). TD_C_EASY_HEADERS (lines separated by newlines) adds header lines, for
 * a run that sends the very request bytes of the SDK (its User-Agent and Accept-Encoding too).
 * usage: c_easy URL AUTH_HEADER N [CAFILE] */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"

struct sink { size_t total; char *buf; size_t len, cap; };

static size_t on_body(char *p, size_t sz, size_t n, void *ud) {
  struct sink *s = ud;
  size_t k = sz * n;
  if (s->len + k > s->cap) {
    size_t cap = s->cap ? s->cap : 4096;
    while (cap < s->len + k) cap *= 2;
    char *nb = realloc(s->buf, cap);
    if (!nb) return 0;
    s->buf = nb;
    s->cap = cap;
  }
  memcpy(s->buf + s->len, p, k);
  s->len += k;
  s->total += k;
  return k;
}

int main(int argc, char **argv) {
  if (argc < 4) { fprintf(stderr, "usage: c_easy URL AUTH N [CAFILE]\n"); return 2; }
  long n = strtol(argv[3], NULL, 10);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURL *e = curl_easy_init();
  struct curl_slist *h = NULL;
  char auth[4096];
  snprintf(auth, sizeof auth, "Authorization: %s", argv[2]);
  h = curl_slist_append(h, auth);
  h = curl_slist_append(h, "Accept: application/json");
  const char *extra = getenv("TD_C_EASY_HEADERS");
  char line[1024];
  while (extra && *extra) {
    size_t k = strcspn(extra, "\n");
    if (k > 0 && k < sizeof line) {
      memcpy(line, extra, k);
      line[k] = '\0';
      h = curl_slist_append(h, line);
    }
    extra += k;
    if (*extra == '\n') extra++;
  }
  struct sink s = { 0, NULL, 0, 0 };
  curl_easy_setopt(e, CURLOPT_URL, argv[1]);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &s);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
  if (argc > 4) curl_easy_setopt(e, CURLOPT_CAINFO, argv[4]);
  /* one untimed call opens the connection (and the TLS session), as the SDK side is warmed */
  if (curl_easy_perform(e) != CURLE_OK) { fprintf(stderr, "c_easy: warm-up call failed\n"); return 1; }
  s.total = 0;
  double t0 = now_s(), c0 = cpu_s();
  for (long i = 0; i < n; i++) {
    s.len = 0;
    CURLcode rc = curl_easy_perform(e);
    long status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    if (rc != CURLE_OK || status != 200) {
      fprintf(stderr, "c_easy: call %ld failed: %s (HTTP %ld)\n", i, curl_easy_strerror(rc), status);
      return 1;
    }
  }
  double t = now_s() - t0, cpu = cpu_s() - c0;
  long conns = 0;
  curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &conns);
  printf("%ld %.6f %zu %.6f\n", n, t, s.total, cpu);
  curl_slist_free_all(h);
  curl_easy_cleanup(e);
  free(s.buf);
  curl_global_cleanup();
  return 0;
}
