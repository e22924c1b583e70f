# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The hot loop of literal searches, compiled: every line of a buffer that holds a literal,
built as `Line` tuples in C.

A search that matches hundreds of thousands of lines (`self`, `^$`, `\\):$`) spends ~1.5 µs
per line in the Python loop of `indexer.search.scan_bytes`, where ripgrep spends ~0.5 µs in
all. Here a line costs ~0.1 µs. `scan_bytes` falls back to its Python loop (the same
results: tests/test_linescan.py checks them against each other and against RE2) where this
module was not built.

The literal may be anchored at a line's start (`^lit`), at its end (`lit$`) or both (`^$`):
it is then searched with the newline before or after it, as one needle.
"""

from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_FromStringAndSize
from libc.stdlib cimport free, malloc
from libc.string cimport memchr, memcmp


cdef extern from "string.h" nogil:
    # a GNU extension (Python.h defines _GNU_SOURCE)
    void *memrchr(const void *s, int c, size_t n)


cdef extern from *:
    """
    #include <string.h>
    #if defined(__SSE2__)
    #include <emmintrin.h>
    #endif

    /* The first occurrence of `needle` (k >= 1 bytes) in p[0:n], or NULL. glibc's memmem
       runs at ~3 GB/s here; this is the "generic SIMD" search (W. Mula): 16 positions at
       a time are kept when both the needle's first and last bytes sit there, then checked
       with memcmp. SSE2 is part of x86-64; elsewhere, memmem. */
    static const unsigned char *codeloupe_find(const unsigned char *p, Py_ssize_t n,
                                               const unsigned char *needle, Py_ssize_t k) {
        Py_ssize_t i = 0;
        if (k > n) return NULL;
        if (k == 1) return (const unsigned char *)memchr(p, needle[0], (size_t)n);
    #if defined(__SSE2__)
        {
            const __m128i first = _mm_set1_epi8((char)needle[0]);
            const __m128i last = _mm_set1_epi8((char)needle[k - 1]);
            for (; i + k - 1 + 16 <= n; i += 16) {
                __m128i a = _mm_loadu_si128((const __m128i *)(p + i));
                __m128i b = _mm_loadu_si128((const __m128i *)(p + i + k - 1));
                unsigned mask = (unsigned)_mm_movemask_epi8(
                    _mm_and_si128(_mm_cmpeq_epi8(a, first), _mm_cmpeq_epi8(b, last)));
                while (mask) {
                    int bit = __builtin_ctz(mask);
                    if (memcmp(p + i + bit + 1, needle + 1, (size_t)(k - 2 > 0 ? k - 2 : 0)) == 0)
                        return p + i + bit;
                    mask &= mask - 1;
                }
            }
        }
    #endif
        return (const unsigned char *)memmem(p + i, (size_t)(n - i), needle, (size_t)k);
    }

    /* Newlines in p[a:b]. SSE2: byte counters (a match subtracts -1) summed every 255
       blocks with a sum of absolute differences, no popcount instruction needed. */
    static Py_ssize_t codeloupe_count_newlines(const unsigned char *p, Py_ssize_t a,
                                               Py_ssize_t b) {
        Py_ssize_t count = 0, i = a;
    #if defined(__SSE2__)
        const __m128i nl = _mm_set1_epi8(10), zero = _mm_setzero_si128();
        while (i + 16 <= b) {
            __m128i counters = _mm_setzero_si128(), sums;
            int blocks = 0;
            for (; i + 16 <= b && blocks < 255; i += 16, blocks++) {
                counters = _mm_sub_epi8(counters, _mm_cmpeq_epi8(
                    _mm_loadu_si128((const __m128i *)(p + i)), nl));
            }
            sums = _mm_sad_epu8(counters, zero);
            count += _mm_cvtsi128_si32(sums) + _mm_cvtsi128_si32(_mm_srli_si128(sums, 8));
        }
    #endif
        for (; i < b; i++) count += p[i] == 10;
        return count;
    }
    """
    const unsigned char *codeloupe_find(const unsigned char *p, Py_ssize_t n,
                                        const unsigned char *needle, Py_ssize_t k) noexcept nogil
    Py_ssize_t codeloupe_count_newlines(const unsigned char *p, Py_ssize_t a,
                                        Py_ssize_t b) noexcept nogil


cdef extern from *:
    """
    /* A `Line` (a tuple subclass) built as tuple.__new__ builds one, without the argument
       tuple: the type's allocator, then the four items.
       The line, its submatch list and their (start, end) pairs are taken off the cyclic GC's
       books: they hold ints, bytes and each other, never a cycle, and a search of 1M lines
       otherwise hands the GC 3M objects to walk (~0.2 s, measured). CPython untracks tuples
       of atomic values itself, but only when a collection gets to them. */
    static PyObject *codeloupe_new_line(PyObject *type, PyObject *number, PyObject *offset,
                                        PyObject *text, PyObject *subs) {
        Py_ssize_t i;
        PyObject *line = ((PyTypeObject *)type)->tp_alloc((PyTypeObject *)type, 4);
        if (line == NULL) return NULL;
        Py_INCREF(number); PyTuple_SET_ITEM(line, 0, number);
        Py_INCREF(offset); PyTuple_SET_ITEM(line, 1, offset);
        Py_INCREF(text); PyTuple_SET_ITEM(line, 2, text);
        Py_INCREF(subs); PyTuple_SET_ITEM(line, 3, subs);
        for (i = 0; i < PyList_GET_SIZE(subs); i++) {
            PyObject_GC_UnTrack(PyList_GET_ITEM(subs, i));
        }
        PyObject_GC_UnTrack(subs);
        PyObject_GC_UnTrack(line);
        return line;
    }
    """
    object codeloupe_new_line(object type, object number, object offset, object text,
                              object subs)


# ASCII word characters ([0-9A-Za-z_]): a -w literal's neighbours are judged here when ASCII
cdef unsigned char WORD[256]
for _c in range(256):
    WORD[_c] = 48 <= _c <= 57 or 65 <= _c <= 90 or 97 <= _c <= 122 or _c == 95


cdef Py_ssize_t PAIRS_CACHED = 512


cdef class _Scan:
    """A search of one literal: the needle, how a match sits in it, and the buffer (or the
    part of one: a file within a pack) being searched."""
    cdef const unsigned char *p  # the part searched: p[0:n]
    cdef Py_ssize_t n
    cdef object data  # the whole buffer, for `bounded`
    cdef Py_ssize_t base  # where p[0] is in it
    cdef bytes needle_bytes
    cdef const unsigned char *needle
    cdef Py_ssize_t needle_size, lead, size
    cdef bint at_start, at_end, anchored, whole_word
    cdef object line_type, bounded
    cdef list pairs  # (column, column + size) for the first columns, built once and shared

    cdef object pair(self, Py_ssize_t column):
        """The submatch (column, column + size): tuples are immutable, so lines share them."""
        if column >= PAIRS_CACHED:
            return (column, column + self.size)
        cached = self.pairs[column]
        if cached is None:
            cached = self.pairs[column] = (column, column + self.size)
        return cached

    cdef bint is_bounded(self, Py_ssize_t m) except -1:
        """No word character right before or after the occurrence at `m` (ripgrep's -w)."""
        cdef unsigned char before = self.p[m - 1] if m > 0 else 10
        cdef unsigned char after = self.p[m + self.size] if m + self.size < self.n else 10
        if before < 0x80 and after < 0x80:
            return not (WORD[before] or WORD[after])
        if (before < 0x80 and WORD[before]) or (after < 0x80 and WORD[after]):
            return False
        # a non-ASCII neighbour: decoded by Python, within this file's bytes
        part = memoryview(self.data)[self.base:self.base + self.n]
        return bool(self.bounded(part, m, m + self.size))

    cdef Py_ssize_t next_unanchored(self, Py_ssize_t s) except -2:
        """The next occurrence at or after `s` (between non-word characters with -w)."""
        cdef const unsigned char *q
        while s <= self.n:
            q = codeloupe_find(self.p + s, self.n - s, self.needle, self.needle_size)
            if q == NULL:
                return -1
            s = q - self.p
            if not self.whole_word or self.is_bounded(s):
                return s
            s += 1
        return -1

    cdef Py_ssize_t next_anchored(self, Py_ssize_t s) noexcept:
        """Where the literal of the next matching line at or after `s` (a line start)
        begins."""
        cdef const unsigned char *p = self.p
        cdef Py_ssize_t n = self.n, size = self.size, m, start
        cdef const unsigned char *q
        if self.at_start and s == 0 and n >= size and memcmp(p, self.needle + 1, size) == 0:
            if not self.at_end or (n > size and p[size] == 10) or (n == size and size > 0):
                return 0  # the first line (`^$` never matches an empty buffer: no line)
        start = s - self.lead if s >= self.lead else 0
        if start < n:
            q = codeloupe_find(p + start, n - start, self.needle, self.needle_size)
            if q != NULL:
                return (q - p) + self.lead
        if self.at_end and size > 0:  # the last line, when no newline ends it
            m = n - size
            if m >= s and memcmp(p + m, self.needle + self.lead, size) == 0 and (
                    not self.at_start or m == 0 or p[m - 1] == 10):
                return m
        return -1

    cdef list lines(self, Py_ssize_t pos, Py_ssize_t max_count):
        """The matching lines of p[0:n] from `pos` (a line start) on, at most `max_count`
        (-1: all)."""
        cdef const unsigned char *p = self.p
        cdef const unsigned char *q
        cdef Py_ssize_t n = self.n, size = self.size, m, k, line_start, line_end, stop
        cdef Py_ssize_t counted_to = 0, line_number = 1
        cdef bint anchored = self.anchored
        cdef list out = []
        cdef list subs
        if pos > n:
            return out
        m = self.next_anchored(pos) if anchored else self.next_unanchored(pos)
        while m >= 0:
            if self.at_start:
                line_start = m
            else:
                q = <const unsigned char *>memrchr(p + counted_to, 10, m - counted_to)
                line_start = (q - p) + 1 if q != NULL else counted_to
            if self.at_end:
                line_end = m + size
            else:
                q = <const unsigned char *>memchr(p + m + size, 10, n - m - size)
                line_end = q - p if q != NULL else n
            line_number += codeloupe_count_newlines(p, counted_to, line_start)
            counted_to = line_start
            subs = [self.pair(m - line_start)]
            k = -1
            if not anchored:  # more occurrences on this line
                k = self.next_unanchored(m + size)
                while 0 <= k < line_end:
                    subs.append(self.pair(k - line_start))
                    k = self.next_unanchored(k + size)
            stop = line_end + 1 if line_end < n else n
            out.append(codeloupe_new_line(self.line_type, line_number, line_start,
                                          PyBytes_FromStringAndSize(
                                              <const char *>p + line_start, stop - line_start),
                                          subs))
            if (max_count >= 0 and len(out) >= max_count) or line_end >= n:
                break
            m = self.next_anchored(line_end + 1) if anchored else k
        return out


cdef _Scan _new_scan(bytes literal, bint at_start, bint at_end, bint whole_word,
                     object line_type, object bounded):
    if not (at_start or at_end) and not literal:
        raise ValueError("an empty literal needs an anchor")
    if (at_start or at_end) and whole_word:
        raise ValueError("anchors and whole_word are not combined")
    cdef _Scan scan = _Scan()
    scan.needle_bytes = (b"\n" if at_start else b"") + literal + (b"\n" if at_end else b"")
    scan.needle = <const unsigned char *><const char *>scan.needle_bytes
    scan.needle_size = len(scan.needle_bytes)
    scan.lead, scan.size = (1 if at_start else 0), len(literal)
    scan.at_start, scan.at_end, scan.anchored = at_start, at_end, at_start or at_end
    scan.whole_word, scan.line_type, scan.bounded = whole_word, line_type, bounded
    scan.pairs = [None] * PAIRS_CACHED
    return scan


def literal_lines(object data, Py_ssize_t pos, bytes literal, bint at_start, bint at_end,
                  bint whole_word, Py_ssize_t max_count, object line_type, object bounded):
    """Every line of `data` (bytes or a buffer) from `pos` (a line start) on that holds
    `literal` (anchored at the line's start and/or end if asked), as `line_type` tuples
    (line_number, byte_offset, text, submatches), at most `max_count` of them (-1: all).
    With `whole_word`, an occurrence counts only between non-word characters;
    `bounded(data, start, end)` judges those with a non-ASCII neighbour. Anchors and
    `whole_word` are not combined."""
    cdef Py_buffer view
    cdef _Scan scan = _new_scan(literal, at_start, at_end, whole_word, line_type, bounded)
    PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
    try:
        scan.p, scan.n, scan.data, scan.base = <const unsigned char *>view.buf, view.len, data, 0
        return scan.lines(pos, max_count)
    finally:
        PyBuffer_Release(&view)


def literal_lines_in_spans(object data, list spans, bytes literal, bint at_start, bint at_end,
                           bint whole_word, Py_ssize_t max_count, Py_ssize_t budget,
                           object line_type, object bounded):
    """`literal_lines` over many files in one buffer (a pack): `spans` holds (start, end,
    key) triples, and the result (key, lines) pairs for the files with a match, lines
    numbered and offset within each file. Stops after the file that brings the lines found
    to `budget` (-1: no budget). One call saves a Python round per file."""
    cdef Py_buffer view
    cdef _Scan scan = _new_scan(literal, at_start, at_end, whole_word, line_type, bounded)
    cdef list found = [], lines
    cdef Py_ssize_t start, end, total = 0
    cdef const unsigned char *buf
    PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
    try:
        buf = <const unsigned char *>view.buf
        scan.data = data
        for start, end, key in spans:
            if start < 0 or end > view.len or start > end:
                raise ValueError(f"span {start}:{end} outside the buffer")
            scan.p, scan.n, scan.base = buf + start, end - start, start
            lines = scan.lines(0, max_count)
            if lines:
                found.append((key, lines))
                total += len(lines)
                if 0 <= budget <= total:
                    break
        return found
    finally:
        PyBuffer_Release(&view)


# --- any pattern: RE2 finds the matches, the lines are built here ----------------------------


cdef inline Py_ssize_t _next_char(const unsigned char *p, Py_ssize_t pos,
                                  Py_ssize_t limit) noexcept nogil:
    """The position after an empty match: one character on (past UTF-8 continuations)."""
    pos += 1
    while pos < limit and (p[pos] & 0xC0) == 0x80:
        pos += 1
    return pos


cdef class _RegexScan:
    """A pattern's matches in one buffer, found by RE2's `match` (or a line-filtered
    finder), positions absolute in the buffer."""
    cdef object data, match, anchor, finder, line_type
    cdef Py_ssize_t group
    cdef bint can_be_empty
    cdef const unsigned char *p
    cdef Py_ssize_t size

    cdef object find(self, Py_ssize_t pos, Py_ssize_t end):
        """(start, end) of the next match in [pos, end), or None."""
        if self.finder is not None:
            return self.finder(self.data, pos, end)
        spans = self.match(self.anchor, self.data, pos, end)
        if spans[0][0] < 0:
            return None
        return spans[self.group]

    cdef list lines(self, Py_ssize_t base, Py_ssize_t end, Py_ssize_t pos,
                    Py_ssize_t max_count):
        """The matching lines of the file at p[base:end], from `pos` (absolute, a line
        start) on, numbered and offset within the file; at most `max_count` (-1: all)."""
        cdef const unsigned char *p = self.p
        cdef const unsigned char *q
        cdef Py_ssize_t ms, me, a, b, k, line_start, line_end, stop
        cdef Py_ssize_t counted_to = base, line_number = 1
        # The empty string after a final newline is not a line (ripgrep never reports it).
        cdef Py_ssize_t last = end - 1 if end > base and p[end - 1] == 10 else end
        cdef list out = []
        cdef list subs
        span = self.find(pos, end) if pos <= end else None
        while span is not None:
            ms, me = span
            if ms > last or (ms == last and end == base):
                break
            q = <const unsigned char *>memrchr(p + counted_to, 10, ms - counted_to)
            line_start = (q - p) + 1 if q != NULL else counted_to
            q = <const unsigned char *>memchr(p + me, 10, end - me)
            line_end = q - p if q != NULL else end
            line_number += codeloupe_count_newlines(p, counted_to, line_start)
            counted_to = line_start
            subs = [(ms - line_start, me - line_start)]
            k = me if me > ms else _next_char(p, me, line_end)
            # further matches on the same line (none starts at its end unless it can be empty)
            while k < line_end or (k == line_end and self.can_be_empty):
                more = self.find(k, line_end)
                if more is None:
                    break
                a, b = more
                subs.append((a - line_start, b - line_start))
                k = b if b > a else _next_char(p, b, line_end)
            stop = line_end + 1 if line_end < end else end
            out.append(codeloupe_new_line(self.line_type, line_number, line_start - base,
                                          PyBytes_FromStringAndSize(
                                              <const char *>p + line_start, stop - line_start),
                                          subs))
            if (max_count >= 0 and len(out) >= max_count) or line_end >= end:
                break
            span = self.find(line_end + 1, end)
        return out


cdef _RegexScan _new_regex_scan(object data, object match, object anchor, Py_ssize_t group,
                                object finder, bint can_be_empty, object line_type):
    cdef _RegexScan scan = _RegexScan()
    scan.data, scan.match, scan.anchor, scan.group = data, match, anchor, group
    scan.finder, scan.can_be_empty, scan.line_type = finder, can_be_empty, line_type
    return scan


def regex_lines(object data, Py_ssize_t pos, object match, object anchor, Py_ssize_t group,
                object finder, bint can_be_empty, Py_ssize_t max_count, object line_type):
    """Every line of `data` from `pos` (a line start) on that holds a match, as
    `line_type` tuples (at most `max_count`; -1: all). Matches are found by
    `match(anchor, data, pos, end)` (RE2's extension: spans, group `group` reported) or,
    if given, by `finder(data, pos, end)` -> (start, end) | None. `can_be_empty`: the
    pattern may match the empty string (then a match may start at a line's end)."""
    cdef Py_buffer view
    cdef _RegexScan scan = _new_regex_scan(data, match, anchor, group, finder, can_be_empty,
                                           line_type)
    PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
    try:
        scan.p, scan.size = <const unsigned char *>view.buf, view.len
        return scan.lines(0, view.len, pos, max_count)
    finally:
        PyBuffer_Release(&view)


def regex_lines_in_spans(object data, list spans, object match, object anchor,
                         Py_ssize_t group, object finder, bint can_be_empty,
                         Py_ssize_t max_count, Py_ssize_t budget, Py_ssize_t run_gap,
                         object line_type):
    """`regex_lines` over many files in one buffer (a pack, where a newline follows every
    file, so `^`, `$` and `\\b` see a file's edges as they see a buffer's): `spans` holds
    (start, end, key) triples in buffer order; the result, (key, lines) pairs for the files
    with a match. Files less than `run_gap` bytes apart are searched as one run: one RE2
    call crosses the files without a match. Stops after the file that brings the lines
    found to `budget` (-1: no budget)."""
    cdef Py_buffer view
    cdef _RegexScan scan = _new_regex_scan(data, match, anchor, group, finder, can_be_empty,
                                           line_type)
    cdef list found = [], lines
    cdef Py_ssize_t count = len(spans), i, j, k, lo, hi, pos, stop, ms, s, e, line_start
    cdef Py_ssize_t total = 0
    cdef Py_ssize_t *starts = <Py_ssize_t *>malloc(max(count, 1) * sizeof(Py_ssize_t))
    cdef Py_ssize_t *ends = <Py_ssize_t *>malloc(max(count, 1) * sizeof(Py_ssize_t))
    cdef const unsigned char *q
    if starts == NULL or ends == NULL:
        free(starts)
        free(ends)
        raise MemoryError()
    PyObject_GetBuffer(data, &view, PyBUF_SIMPLE)
    try:
        scan.p, scan.size = <const unsigned char *>view.buf, view.len
        for i in range(count):
            starts[i], ends[i] = spans[i][0], spans[i][1]
            if starts[i] < 0 or ends[i] > view.len or starts[i] > ends[i] or (
                    i and starts[i] < ends[i - 1]):
                raise ValueError(f"span {starts[i]}:{ends[i]} outside the buffer or out of order")
        i = 0
        while i < count:
            j = i  # the run: files i..j
            while j + 1 < count and starts[j + 1] - ends[j] <= run_gap:
                j += 1
            pos, stop = starts[i], ends[j]
            while pos <= stop:
                span = scan.find(pos, stop)
                if span is None:
                    break
                ms = span[0]
                lo, hi = i, j  # the last file of the run starting at or before the match
                while lo < hi:
                    k = (lo + hi + 1) // 2
                    if starts[k] <= ms:
                        lo = k
                    else:
                        hi = k - 1
                k = lo
                s, e = starts[k], ends[k]
                if ms <= e:  # in file k: its lines from the match's on
                    q = <const unsigned char *>memrchr(scan.p + s, 10, ms - s)
                    line_start = (q - scan.p) + 1 if q != NULL else s
                    lines = scan.lines(s, e, line_start, max_count)
                    if lines:
                        found.append((spans[k][2], lines))
                        total += len(lines)
                        if 0 <= budget <= total:
                            return found
                pos = starts[k + 1] if k < j else stop + 1  # the next file (or past a gap)
            i = j + 1
        return found
    finally:
        PyBuffer_Release(&view)
        free(starts)
        free(ends)
