/* Finding a byte window (indexer/regex/window.py): a run of byte sets every match holds.

   The probed positions (the rarest, at most 3) are tested 16 window starts at a time: each
   set is at most 4 byte ranges, and `lo <= b <= hi` is one unsigned compare after a
   subtraction (SSE2 has no unsigned compare: min(b - lo, hi - lo) == b - lo stands in).
   Where every probe holds, the whole window is checked against its table. SSE2 is part of
   x86-64; elsewhere the same check runs byte by byte. */

#include <Python.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define CODELOUPE_MAX_PROBES 3
#define CODELOUPE_MAX_RANGES 4
#define CODELOUPE_MAX_WIDTH 16

typedef struct {
    Py_ssize_t offset;
    int negated;
    int ranges;
    unsigned char lo[CODELOUPE_MAX_RANGES];
    unsigned char span[CODELOUPE_MAX_RANGES]; /* hi - lo */
} codeloupe_probe;

typedef struct {
    Py_ssize_t width;
    const unsigned char *table; /* width x 256: 1 where a byte may sit at that position */
    int probes;
    codeloupe_probe probe[CODELOUPE_MAX_PROBES];
    Py_ssize_t reach; /* the largest probe offset */
} codeloupe_window;

static inline int codeloupe_window_holds(const codeloupe_window *w, const unsigned char *at) {
    for (Py_ssize_t k = 0; k < w->width; k++) {
        if (!w->table[k * 256 + at[k]]) return 0;
    }
    return 1;
}

#if defined(__SSE2__)
static inline unsigned codeloupe_probe_mask(const codeloupe_probe *probe,
                                            const unsigned char *at) {
    const __m128i v = _mm_loadu_si128((const __m128i *)(at + probe->offset));
    __m128i in = _mm_setzero_si128();
    for (int r = 0; r < probe->ranges; r++) {
        const __m128i t = _mm_sub_epi8(v, _mm_set1_epi8((char)probe->lo[r]));
        in = _mm_or_si128(in, _mm_cmpeq_epi8(
                                  _mm_min_epu8(t, _mm_set1_epi8((char)probe->span[r])), t));
    }
    unsigned mask = (unsigned)_mm_movemask_epi8(in);
    return probe->negated ? (~mask & 0xFFFFu) : mask;
}
#endif

/* The first s in [pos, end - width] where the window holds at p + s, or -1. */
static Py_ssize_t codeloupe_window_find(const codeloupe_window *w, const unsigned char *p,
                                        Py_ssize_t pos, Py_ssize_t end) {
    Py_ssize_t s = pos;
#if defined(__SSE2__)
    const Py_ssize_t last_block = end - (w->reach > w->width ? w->reach : w->width) - 16;
    for (; s <= last_block; s += 16) {
        unsigned mask = codeloupe_probe_mask(&w->probe[0], p + s);
        for (int k = 1; mask && k < w->probes; k++) mask &= codeloupe_probe_mask(&w->probe[k], p + s);
        while (mask) {
            int bit = __builtin_ctz(mask);
            if (codeloupe_window_holds(w, p + s + bit)) return s + bit;
            mask &= mask - 1;
        }
    }
#endif
    for (; s + w->width <= end; s++) {
        if (codeloupe_window_holds(w, p + s)) return s;
    }
    return -1;
}
