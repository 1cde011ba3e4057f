/* The bench's baseline for batches: N GETs of one URL through one libcurl multi handle with
 * C transfers in flight at once, connections reused from the multi's cache. Prints
 * "calls seconds bytes connections cpu_seconds" (user and system time of the loop). usage: c_multi URL AUTH N CONCURRENCY [CAFILE] */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "clock.h"

static size_t total_bytes;

static size_t on_body(char *p, size_t sz, size_t n, void *ud) {
  (void)p; (void)ud;
  total_bytes += sz * n;
  return sz * n;
}

int main(int argc, char **argv) {
  if (argc < 5) { fprintf(stderr, "usage: c_multi URL AUTH N CONCURRENCY [CAFILE]\n"); return 2; }
  long n = strtol(argv[3], NULL, 10), conc = strtol(argv[4], NULL, 10);
  if (conc < 1 || conc > 256) conc = 16;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  CURLM *m = curl_multi_init();
  curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, conc);
  struct curl_slist *h = NULL;
  char auth[4096];
  snprintf(auth, sizeof auth, "Authorization: %s", argv[2]);
  h = curl_slist_append(h, auth);
  h = curl_slist_append(h, "Accept: application/json");
  CURL **easy = calloc((size_t)conc, sizeof *easy);
  long started = 0, done = 0, conns = 0;
  double t0 = now_s(), c0 = cpu_s();
  for (long i = 0; i < conc && started < n; i++, started++) {
    CURL *e = curl_easy_init();
    easy[i] = e;
    curl_easy_setopt(e, CURLOPT_URL, argv[1]);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    if (argc > 5) curl_easy_setopt(e, CURLOPT_CAINFO, argv[5]);
    curl_multi_add_handle(m, e);
  }
  int running = 1;
  while (done < n) {
    curl_multi_perform(m, &running);
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m, &left))) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL *e = msg->easy_handle;
      long status = 0, c = 0;
      curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
      curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &c);
      conns += c;
      if (msg->data.result != CURLE_OK || status != 200) {
        fprintf(stderr, "c_multi: a call failed: %s (HTTP %ld)\n", curl_easy_strerror(msg->data.result), status);
        return 1;
      }
      done++;
      curl_multi_remove_handle(m, e);
      if (started < n) { started++; curl_multi_add_handle(m, e); }
    }
    if (done < n) curl_multi_poll(m, NULL, 0, 1000, NULL);
  }
  double t = now_s() - t0, cpu = cpu_s() - c0;
  printf("%ld %.6f %zu %ld %.6f\n", n, t, total_bytes, conns, cpu);
  for (long i = 0; i < conc; i++) if (easy[i]) curl_easy_cleanup(easy[i]);
  free(easy);
  curl_slist_free_all(h);
  curl_multi_cleanup(m);
  curl_global_cleanup();
  return 0;
}
