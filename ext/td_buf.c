#include "td_buf.h"

#include <stdlib.h>
#include <string.h>

void td_buf_init(td_buf *b) {
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
}

void td_wipe(void *p, size_t n) {
  volatile unsigned char *v = (volatile unsigned char *)p;
  while (n--) *v++ = 0;
}

int td_buf_add(td_buf *b, const void *p, size_t n) {
  if (n == 0) return 0;
  if (n > (size_t)-1 - b->len - 1) return -1;
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    char *nd;
    while (cap < b->len + n + 1) {
      if (cap > (size_t)-1 / 2) {
        cap = b->len + n + 1;
        break;
      }
      cap *= 2;
    }
    nd = (char *)malloc(cap);
    if (nd == NULL) return -1;
    if (b->data) {
      memcpy(nd, b->data, b->len);
      /* old block may hold a secret: wipe what was used before giving it back (every reset
         wipes what was used, so nothing beyond len is left to wipe) */
      td_wipe(b->data, b->len);
      free(b->data);
    }
    b->data = nd;
    b->cap = cap;
  }
  memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return 0;
}

int td_buf_addc(td_buf *b, char c) { return td_buf_add(b, &c, 1); }

int td_buf_adds(td_buf *b, const char *s) { return td_buf_add(b, s, strlen(s)); }

void td_buf_reset(td_buf *b, int wipe) {
  if (wipe && b->data) td_wipe(b->data, b->len);
  b->len = 0;
  if (b->data) b->data[0] = '\0';
}

void td_buf_free(td_buf *b, int wipe) {
  if (b->data) {
    if (wipe) td_wipe(b->data, b->len);
    free(b->data);
  }
  td_buf_init(b);
}
