/* Growable byte buffer for response bodies, header blocks and composed request bits. */
#ifndef TD_BUF_H
#define TD_BUF_H

#include <stddef.h>

/* Shared between the C files of the module but never exported from the .so. */
#if defined(__GNUC__) || defined(__clang__)
#define TD_INTERNAL __attribute__((visibility("hidden")))
#else
#define TD_INTERNAL
#endif

typedef struct td_buf {
  char *data;
  size_t len;
  size_t cap;
} td_buf;

TD_INTERNAL void td_buf_init(td_buf *b);
/* Returns 0 on success, -1 when memory ran out (the buffer is left as it was). */
TD_INTERNAL int td_buf_add(td_buf *b, const void *p, size_t n);
/* Adds the line "<name>: <value>" and its NUL (header lines, "Name: value\0" each). */
TD_INTERNAL int td_buf_line(td_buf *b, const char *n, size_t nl, const char *v, size_t vl);
TD_INTERNAL int td_buf_addc(td_buf *b, char c);
TD_INTERNAL int td_buf_adds(td_buf *b, const char *s);
/* Empties the buffer; with wipe set, the bytes used are overwritten first (secrets). A buffer
   that ever holds a secret is always reset with wipe, so no byte beyond len is left unwiped. */
TD_INTERNAL void td_buf_reset(td_buf *b, int wipe);
TD_INTERNAL void td_buf_free(td_buf *b, int wipe);
/* Overwrites n bytes in a way the compiler may not drop. */
TD_INTERNAL void td_wipe(void *p, size_t n);

#endif
