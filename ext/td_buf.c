#include "td_buf.h"

#include <stdlib.h>
#include <string.h>

void td_buf_init(td_buf *b) {
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
}

void td_wipe(void *p, size_t n) {
#if defined(__GNUC__) || defined(__clang__)
  /* memset, then a barrier the compiler must assume reads the bytes: the stores stay */
  memset(p, 0, n);
  __asm__ __volatile__("" : : "r"(p) : "memory");
#else
  volatile unsigned char *v = (volatile unsigned char *)p;
  while (n--) *v++ = 0;
#endif
}

/* Room for n more bytes and the terminating NUL. Returns 0, or -1 (the buffer left as it was). */
static int td_buf_room(td_buf *b, size_t n) {
  size_t cap;
  char *nd;
  if (n > (size_t)-1 - b->len - 1) return -1;
  if (b->len + n + 1 <= b->cap) return 0;
  cap = b->cap ? b->cap : 256;
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
  return 0;
}

int td_buf_add(td_buf *b, const void *p, size_t n) {
  if (n == 0) return 0;
  if (td_buf_room(b, n)) return -1;
  memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return 0;
}

int td_buf_line(td_buf *b, const char *n, size_t nl, const char *v, size_t vl) {
  char *d;
  if (nl > (size_t)-1 / 4 || vl > (size_t)-1 / 4 || td_buf_room(b, nl + vl + 3)) return -1;
  d = b->data + b->len;
  memcpy(d, n, nl);
  d[nl] = ':';
  d[nl + 1] = ' ';
  memcpy(d + nl + 2, v, vl);
  d[nl + 2 + vl] = '\0';
  b->len += nl + vl + 3;
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
