# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# distutils: language = c++
"""The hot loops of searches, compiled: every line of a buffer that holds a literal or a
match of a pattern, built as `Line` tuples in C.

A search that matches hundreds of thousands of lines (`self`, `^$`, `\\):$`) spends ~1.5 µs
per line in the Python loop of `indexer.search.scan_bytes`, where ripgrep spends ~0.5 µs in
all. Here a line costs ~0.1 µs. `scan_bytes` falls back to its Python loop (the same
results: tests/test_linescan.py checks them against each other and against RE2) where this
module was not built.

The literal may be anchored at a line's start (`^lit`), at its end (`lit$`) or both (`^$`):
it is then searched with the newline before or after it, as one needle.

Any other pattern is matched by RE2 (`RegexLines`), called from C with no GIL held where
google-re2's library can be bound (`_re2_direct.h`), so that jobs in threads search at once.
"""

from cpython.buffer cimport PyBUF_SIMPLE, PyBuffer_Release, PyObject_GetBuffer
from cpython.bytes cimport PyBytes_FromStringAndSize
from cpython.pycapsule cimport PyCapsule_GetName, PyCapsule_GetPointer
from libcpp.vector cimport vector
from libc.string cimport memchr, memcmp

import re2


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
        scan.p = <const unsigned char *>view.buf
        scan.n, scan.data, scan.base = view.len, data, 0
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


cdef extern from "_re2_direct.h":
    int codeloupe_re2_resolve(const char *path)
    void codeloupe_re2_unresolve()
    object codeloupe_re2_type_capsule()
    int codeloupe_re2_find(const void *re, const unsigned char *p, Py_ssize_t size,
                           Py_ssize_t pos, Py_ssize_t end, int group, Py_ssize_t *start,
                           Py_ssize_t *stop) noexcept nogil
    int CODELOUPE_RE2_MAX_GROUP


cdef extern from "_byte_window.h":
    ctypedef struct codeloupe_probe:
        Py_ssize_t offset
        int negated
        int ranges
        unsigned char lo[4]
        unsigned char span[4]
    ctypedef struct codeloupe_window:
        Py_ssize_t width
        const unsigned char *table
        int probes
        codeloupe_probe probe[3]
        Py_ssize_t reach
    int CODELOUPE_MAX_PROBES, CODELOUPE_MAX_RANGES, CODELOUPE_MAX_WIDTH
    Py_ssize_t codeloupe_window_find(const codeloupe_window *w, const unsigned char *p,
                                     Py_ssize_t pos, Py_ssize_t end) noexcept nogil


cdef object _UNANCHORED = re2._Anchor.UNANCHORED
cdef bytes _conduit_abi = None  # pybind11's platform ABI id in google-re2's build; None: unbound

# The line filter's accounts, in bytes RE2's DFA would crawl in the same time (~1 ns a byte):
cdef Py_ssize_t SHORT_SPAN = 256  # a span this short goes to RE2 without the filter
cdef Py_ssize_t MISS_COST = 128  # an RE2 call on a line that held the window but no match
cdef Py_ssize_t SEARCH_SHIFT = 3  # the window's SIMD search: 1/8 of a byte's crawl a byte
cdef Py_ssize_t FILTER_TRIAL = 64 * 128  # cost spent before the filter's gain is judged

def filter_costs(short_span: int | None = None, miss_cost: int | None = None,
                 trial: int | None = None) -> tuple[int, int, int]:
    """The window filter's (short span, miss cost, trial) before this call, setting any
    given: tests force the filter onto short texts and make it give up soon."""
    global SHORT_SPAN, MISS_COST, FILTER_TRIAL
    old = (SHORT_SPAN, MISS_COST, FILTER_TRIAL)
    if short_span is not None:
        SHORT_SPAN = short_span
    if miss_cost is not None:
        MISS_COST = miss_cost
    if trial is not None:
        FILTER_TRIAL = trial
    return old


# Probes run when RE2 is bound: each must give through the C call what the Python binding
# gives, at every start position, or the scanner goes on calling RE2 through Python.
_PROBES = [(rb"a+", b"xaa aaa\nba"), (rb"(?:^|\W)(ab)(?:$|\W)", b"ab ab-xab ab"),
           (rb"(?m:^)$", b"\n\nx\n"), (rb"\p{Greek}+", "αβ x γ".encode()),
           (rb"(?m:^)(\w+)(?m:$)", b"ab\ncd e\n"), (rb"", b"ab")]


def bind_re2(object module) -> str | None:
    """Call RE2 from C from now on: `module` is google-re2's extension (`re2._re2`). None
    when bound; otherwise why not (the scanner then calls RE2 through Python)."""
    global _conduit_abi
    import re

    cdef Py_ssize_t ms, me
    cdef const void *pointer
    path = module.__file__
    with open(path, "rb") as f:
        found = re.search(rb"_(?:gcc|clang|icc|mingw)_lib[a-z]+_cxxabi[0-9]+", f.read())
    if found is None:
        return f"no pybind11 ABI id in {path}"
    status = codeloupe_re2_resolve(path.encode())
    if status:
        return f"RE2::Match not found in {path} ({'not loaded' if status == -1 else 'symbol'})"
    _conduit_abi = found.group(0)
    options = re2.Options()
    options.never_nl = True
    try:
        for pattern, text in _PROBES:
            regexp = re2.compile(pattern, options)._regexp
            pointer = _re2_pointer(regexp)
            if pointer == NULL:
                raise LookupError("pybind11's conduit gave no RE2 object")
            for group in range(min(regexp.NumberOfCapturingGroups(), 1) + 1):
                for pos in range(len(text) + 1):
                    spans = regexp.Match(_UNANCHORED, text, pos, len(text))
                    want = None if spans[0][0] < 0 or spans[group][0] < 0 else spans[group]
                    got = (ms, me) if codeloupe_re2_find(
                        pointer, <const unsigned char *><const char *>text, len(text), pos,
                        len(text), group, &ms, &me) else None
                    if got != want:
                        raise LookupError(f"{pattern!r} at {pos}: {got} where Python says {want}")
    except Exception as exc:  # noqa: BLE001 - any failure: stay on the Python binding
        _conduit_abi = None
        codeloupe_re2_unresolve()
        return f"RE2 through C disagrees with the Python binding: {exc}"
    return None


def re2_bound() -> bool:
    return _conduit_abi is not None


cdef const void *_re2_pointer(object regexp) except? NULL:
    """The re2::RE2 behind a compiled `re2._Regexp` (alive as long as `regexp` is)."""
    if _conduit_abi is None:
        return NULL
    capsule = regexp._pybind11_conduit_v1_(_conduit_abi, codeloupe_re2_type_capsule(),
                                           b"raw_pointer_ephemeral")
    if capsule is None:
        return NULL
    return PyCapsule_GetPointer(capsule, PyCapsule_GetName(capsule))


cdef inline Py_ssize_t _next_char(const unsigned char *p, Py_ssize_t pos,
                                  Py_ssize_t limit) noexcept nogil:
    """The position after an empty match: one byte on, as rg steps (it reports empty
    matches inside a multi-byte character: `a*` on `éa` gives columns 0, 1 and 2)."""
    return pos + 1


cdef struct Hit:
    Py_ssize_t key  # the span (file) it is in
    Py_ssize_t base  # where that file starts in the buffer
    Py_ssize_t line_number
    Py_ssize_t line_start  # in the buffer
    Py_ssize_t stop  # the line's end, its newline included
    Py_ssize_t first_sub  # its submatches: subs[2 * first_sub:2 * (first_sub + sub_count)]
    Py_ssize_t sub_count


cdef class RegexLines:
    """The lines a pattern matches, found by RE2 and built in C.

    RE2 is called directly when `bind_re2` succeeded, with no GIL held, so that threads
    running other jobs search at the same time; otherwise through its Python binding. A
    byte window every match holds (`window`, an `indexer.regex.window.ByteWindow`) is looked
    for first, and RE2 runs only on the lines holding it, until that stops paying (the
    filter keeps an account in bytes of RE2 crawling, as `indexer.search.LineFilteredFinder`
    does for the Python loop; that one, `finder`, is used as it is for a case-folded
    literal). One object per job: the account is the job's.
    """
    cdef object regexp, match, finder, line_type, back, back_match
    cdef const void *re
    cdef const void *back_re  # the pattern for further matches on a line (see `back`)
    cdef int group
    cdef bint can_be_empty, by_python
    cdef codeloupe_window window
    cdef bytes table  # the window's, kept alive
    cdef bint filtered, at_line_start, plain
    cdef Py_ssize_t cost, passed
    cdef object data  # the buffer searched, p[0:size], held (`view`) until its lines are built
    cdef Py_buffer view
    cdef bint holding
    cdef list spans
    cdef const unsigned char *p
    cdef Py_ssize_t size
    cdef vector[Hit] hits
    cdef vector[Py_ssize_t] subs

    def __cinit__(self, object regexp, int group, bint can_be_empty, object window,
                  object finder, object line_type, object back=None):
        # `back`: for a pattern whose leading boundary consumes the character before the
        # match (`(?:^|\W)(...)`), the same pattern with the boundary as `\W` alone. Further
        # matches on a line are searched with it from the character before the last match's
        # end, so that a match right after another (`-w '[-.]'` on `..`) is found: the
        # character before it is part of the last match, where the plain pattern would start.
        if not 0 <= group <= CODELOUPE_RE2_MAX_GROUP:
            raise ValueError(f"group {group} out of range")
        self.regexp, self.group, self.can_be_empty = regexp, group, can_be_empty
        self.match = regexp.Match
        self.re = _re2_pointer(regexp)
        self.back = back
        if back is not None:
            self.back_match = back.Match
            self.back_re = _re2_pointer(back) if self.re != NULL else NULL
        self.finder, self.by_python = finder, finder is not None
        self.line_type = line_type
        if window is not None and finder is None:
            self.set_window(window)

    cdef set_window(self, object window):
        cdef codeloupe_probe *probe
        cdef Py_ssize_t width = len(window.sets)
        if not 1 <= width <= CODELOUPE_MAX_WIDTH or not 1 <= len(window.probes) <= (
                CODELOUPE_MAX_PROBES):
            raise ValueError("a window of 1 to 16 positions and 1 to 3 probes")
        self.table = window.table
        if len(self.table) != width * 256:
            raise ValueError("a window's table holds 256 bytes a position")
        self.window.width, self.window.table = width, <const unsigned char *>self.table
        self.window.probes, self.window.reach = len(window.probes), 0
        for k, spec in enumerate(window.probes):
            probe = &self.window.probe[k]
            if not 0 <= spec.offset < width or not 1 <= len(spec.ranges) <= (
                    CODELOUPE_MAX_RANGES):
                raise ValueError("a probe within the window, of 1 to 4 ranges")
            probe.offset, probe.negated, probe.ranges = spec.offset, spec.negated, len(spec.ranges)
            for r, (lo, hi) in enumerate(spec.ranges):
                if not 0 <= lo <= hi <= 255:
                    raise ValueError(f"byte range {lo}-{hi}")
                probe.lo[r], probe.span[r] = lo, hi - lo
            self.window.reach = max(self.window.reach, spec.offset)
        self.at_line_start = window.at_line_start
        self.filtered = True

    @property
    def direct(self) -> bool:
        """Whether RE2 is called from C (no GIL) rather than through Python."""
        return self.re != NULL

    @property
    def filtering(self) -> bool:
        """Whether the byte window still filters lines (not gone plain)."""
        return self.filtered and not self.plain

    # --- finding matches ---

    cdef int find(self, Py_ssize_t pos, Py_ssize_t end, Py_ssize_t *ms,
                  Py_ssize_t *me) except -1 nogil:
        """The next match in [pos, end): 1 with its span, or 0."""
        if self.by_python:
            with gil:
                return self.find_by_python(pos, end, ms, me)
        if self.filtered and not self.plain and end - pos >= SHORT_SPAN:
            return self.find_filtered(pos, end, ms, me)
        return self.find_regex(pos, end, ms, me)

    cdef int find_regex(self, Py_ssize_t pos, Py_ssize_t end, Py_ssize_t *ms,
                        Py_ssize_t *me) except -1 nogil:
        if self.re != NULL:
            return codeloupe_re2_find(self.re, self.p, self.size, pos, end, self.group, ms, me)
        with gil:
            spans = self.match(_UNANCHORED, self.data, pos, end)
            if spans[0][0] < 0 or spans[self.group][0] < 0:
                return 0
            ms[0], me[0] = spans[self.group]
            return 1

    cdef int find_next(self, Py_ssize_t line_start, Py_ssize_t k, Py_ssize_t end,
                       Py_ssize_t *ms, Py_ssize_t *me) except -1 nogil:
        """The next match on a line from `k` (past the last match), with `back` when set."""
        cdef Py_ssize_t s = k - 1
        if self.back is None or k <= line_start:
            return self.find(k, end, ms, me)
        while s > line_start and (self.p[s] & 0xC0) == 0x80:
            s -= 1  # the start of the character before `k`
        if self.back_re != NULL:
            return codeloupe_re2_find(self.back_re, self.p, self.size, s, end, self.group,
                                      ms, me)
        with gil:
            spans = self.back_match(_UNANCHORED, self.data, s, end)
            if spans[0][0] < 0 or spans[self.group][0] < 0:
                return 0
            ms[0], me[0] = spans[self.group]
            return 1

    cdef int find_by_python(self, Py_ssize_t pos, Py_ssize_t end, Py_ssize_t *ms,
                            Py_ssize_t *me) except -1:
        span = self.finder(self.data, pos, end)
        if span is None:
            return 0
        ms[0], me[0] = span
        return 1

    cdef Py_ssize_t next_window(self, Py_ssize_t pos, Py_ssize_t end) noexcept nogil:
        """A position on the next line from `pos` on where the window holds (after `pos`
        on the line `pos` is on: the newline of a window at a line's start counts from the
        one before `pos`), or -1."""
        cdef const unsigned char *p = self.p
        cdef Py_ssize_t s, k, width = self.window.width
        if not self.at_line_start:
            return codeloupe_window_find(&self.window, p, pos, end)
        if pos == 0 and width - 1 <= end:  # the buffer's first line: no newline before it
            k = 1
            while k < width and self.window.table[k * 256 + p[k - 1]]:
                k += 1
            if k == width:
                return 0
        s = codeloupe_window_find(&self.window, p, pos - 1 if pos > 0 else 0, end)
        return -1 if s < 0 else s + 1  # the line's start

    cdef int find_filtered(self, Py_ssize_t pos, Py_ssize_t end, Py_ssize_t *ms,
                           Py_ssize_t *me) except -1 nogil:
        """The next match, RE2 run only on lines where the window holds (matches never
        span lines, so the first such line with a match holds the first match)."""
        cdef const unsigned char *p = self.p
        cdef const unsigned char *q
        cdef Py_ssize_t start = pos, hit, line_start, line_end
        cdef int found
        while True:
            hit = self.next_window(pos, end)
            self.cost += ((end if hit < 0 else hit) - pos) >> SEARCH_SHIFT
            if hit < 0:
                self.passed += end - start
                return 0
            q = <const unsigned char *>memrchr(p + pos, 10, hit - pos)
            line_start = (q - p) + 1 if q != NULL else pos
            q = <const unsigned char *>memchr(p + hit, 10, end - hit)
            line_end = q - p if q != NULL else end
            found = self.find_regex(line_start, line_end, ms, me)
            if found:
                self.passed += line_end - start
                self.plain = self.too_costly(0)
                return found
            self.cost += MISS_COST + line_end - line_start
            pos = line_end + 1
            if pos > end:
                self.passed += end - start
                return 0
            if self.too_costly(pos - start):
                self.plain = True
                return self.find_regex(pos, end, ms, me)

    cdef inline bint too_costly(self, Py_ssize_t passing) noexcept nogil:
        """Filtering has cost more than the bytes passed over (`passing`: this call's)."""
        return self.cost > FILTER_TRIAL and self.cost > self.passed + passing

    # --- lines ---

    cdef Py_ssize_t file_lines(self, Py_ssize_t key, Py_ssize_t base, Py_ssize_t end,
                               Py_ssize_t pos, Py_ssize_t max_count) except -1 nogil:
        """The matching lines of the file p[base:end] from `pos` (a line start) on, as hits
        (at most `max_count`; -1: all); how many."""
        cdef const unsigned char *p = self.p
        cdef const unsigned char *q
        cdef Py_ssize_t ms, me, a, b, k, line_start, line_end, count = 0, prev_end
        cdef Py_ssize_t counted_to = base, line_number = 1
        cdef Hit hit
        # The empty string after a final newline is not a line (ripgrep never reports it).
        cdef Py_ssize_t last = end - 1 if end > base and p[end - 1] == 10 else end
        if pos > end or not self.find(pos, end, &ms, &me):
            return 0
        while True:
            if ms > last or (ms == last and end == base):
                break
            q = <const unsigned char *>memrchr(p + counted_to, 10, ms - counted_to)
            line_start = (q - p) + 1 if q != NULL else counted_to
            q = <const unsigned char *>memchr(p + me, 10, end - me)
            line_end = q - p if q != NULL else end
            line_number += codeloupe_count_newlines(p, counted_to, line_start)
            counted_to = line_start
            hit.key, hit.base, hit.line_number, hit.line_start = key, base, line_number, line_start
            hit.stop = line_end + 1 if line_end < end else end
            hit.first_sub, hit.sub_count = self.subs.size() // 2, 1
            self.subs.push_back(ms - line_start)
            self.subs.push_back(me - line_start)
            k = me if me > ms else _next_char(p, me, line_end)
            prev_end = me if me > ms else -1
            # further matches on the same line (none starts at its end unless it can be empty)
            while k < line_end or (k == line_end and self.can_be_empty):
                if not self.find_next(line_start, k, line_end, &a, &b):
                    break
                if a == b and a == prev_end:
                    # As rg (Rust's regex iterator): no empty match right where the last
                    # match ended; search again one character on.
                    if a >= line_end:
                        break
                    k, prev_end = _next_char(p, a, line_end), -1
                    continue
                self.subs.push_back(a - line_start)
                self.subs.push_back(b - line_start)
                hit.sub_count += 1
                prev_end = b if b > a else -1
                k = b if b > a else _next_char(p, b, line_end)
            if (line_end == end and hit.sub_count > 1 and self.subs.back() == end - line_start
                    and self.subs[self.subs.size() - 2] == end - line_start):
                # rg reports no empty match at the end of a file without a final newline (a
                # line with nothing else keeps it: a matching line holds a submatch here)
                self.subs.pop_back()
                self.subs.pop_back()
                hit.sub_count -= 1
            self.hits.push_back(hit)
            count += 1
            if (max_count >= 0 and count >= max_count) or line_end >= end:
                break
            if not self.find(line_end + 1, end, &ms, &me):
                break
        return count

    cdef list built(self, size_t first, size_t stop):
        """`Line`s for hits[first:stop] (one file's)."""
        cdef list out = []
        cdef list subs
        cdef Hit h
        cdef size_t i
        cdef Py_ssize_t j
        for i in range(first, stop):
            h = self.hits[i]
            subs = [(self.subs[2 * j], self.subs[2 * j + 1])
                    for j in range(h.first_sub, h.first_sub + h.sub_count)]
            out.append(codeloupe_new_line(self.line_type, h.line_number, h.line_start - h.base,
                                          PyBytes_FromStringAndSize(
                                              <const char *>self.p + h.line_start,
                                              h.stop - h.line_start),
                                          subs))
        return out

    cdef hold(self, object data):
        """Take `data`'s buffer for a search (until `reset`)."""
        if self.holding:
            raise RuntimeError("results() of the last search were not taken")
        PyObject_GetBuffer(data, &self.view, PyBUF_SIMPLE)
        self.holding = True
        self.p = <const unsigned char *>self.view.buf
        self.data, self.size = data, self.view.len

    cdef void reset(self) noexcept:
        """Forget the last search and let go of its buffer."""
        self.hits.clear()
        self.subs.clear()
        self.p = NULL
        self.data, self.size, self.spans = None, 0, None
        if self.holding:
            self.holding = False
            PyBuffer_Release(&self.view)

    def __dealloc__(self):
        if self.holding:
            PyBuffer_Release(&self.view)

    def lines(self, object data, Py_ssize_t pos, Py_ssize_t max_count) -> list:
        """Every line of `data` from `pos` (a line start) on that holds a match, as
        `line_type` tuples (line_number, byte_offset, text, submatches); at most `max_count`
        (-1: all)."""
        self.hold(data)
        try:
            with nogil:
                self.file_lines(0, 0, self.size, pos, max_count)
            return self.built(0, self.hits.size())
        finally:
            self.reset()

    def lines_in_spans(self, object data, list spans, Py_ssize_t max_count,
                       Py_ssize_t budget, Py_ssize_t run_gap) -> list:
        """`lines` over many files in one buffer (a pack, where a newline follows every
        file, so `^`, `$` and `\\b` see a file's edges as they see a buffer's): `spans` holds
        (start, end, key) triples in buffer order; the result, (key, lines) pairs for the
        files with a match. Files less than `run_gap` bytes apart are searched as one run:
        one RE2 call crosses the files without a match. Stops after the file that brings
        the lines found to `budget` (-1: no budget)."""
        self.search_spans(data, spans, max_count, budget, run_gap)
        return self.results()

    def search_spans(self, object data, list spans, Py_ssize_t max_count,
                     Py_ssize_t budget, Py_ssize_t run_gap) -> None:
        """The search half of `lines_in_spans`, with the GIL released all along once the
        spans are read: a thread runs it while another builds the lines of a job before
        (`results`). The buffer is held until `results`."""
        cdef Py_ssize_t count = len(spans), i
        cdef vector[Py_ssize_t] starts, ends
        starts.reserve(count)
        ends.reserve(count)
        self.hold(data)
        try:
            for i in range(count):
                starts.push_back(spans[i][0])
                ends.push_back(spans[i][1])
                if starts[i] < 0 or ends[i] > self.view.len or starts[i] > ends[i] or (
                        i and starts[i] < ends[i - 1]):
                    raise ValueError(f"span {starts[i]}:{ends[i]} outside the buffer or "
                                     "out of order")
            self.spans = spans
            with nogil:
                self.runs(starts, ends, max_count, budget, run_gap)
        except BaseException:
            self.reset()
            raise

    def results(self) -> list:
        """(key, lines) pairs for the files `search_spans` found lines in, in buffer order."""
        cdef list found = []
        cdef size_t first = 0, h
        if not self.holding:
            raise RuntimeError("no search to take results of")
        try:
            while first < self.hits.size():
                h = first
                while h < self.hits.size() and self.hits[h].key == self.hits[first].key:
                    h += 1
                found.append((self.spans[self.hits[first].key][2], self.built(first, h)))
                first = h
            return found
        finally:
            self.reset()

    cdef int runs(self, vector[Py_ssize_t] &starts, vector[Py_ssize_t] &ends,
                  Py_ssize_t max_count, Py_ssize_t budget, Py_ssize_t run_gap) except -1 nogil:
        cdef Py_ssize_t count = starts.size(), i = 0, j, k, lo, hi, pos, stop, ms, me
        cdef Py_ssize_t line_start, total = 0
        cdef const unsigned char *q
        while i < count:
            j = i  # the run: files i..j
            while j + 1 < count and starts[j + 1] - ends[j] <= run_gap:
                j += 1
            pos, stop = starts[i], ends[j]
            while pos <= stop:
                if not self.find(pos, stop, &ms, &me):
                    break
                lo, hi = i, j  # the last file of the run starting at or before the match
                while lo < hi:
                    k = (lo + hi + 1) // 2
                    if starts[k] <= ms:
                        lo = k
                    else:
                        hi = k - 1
                k = lo
                if ms <= ends[k]:  # in file k: its lines from the match's on
                    q = <const unsigned char *>memrchr(self.p + starts[k], 10, ms - starts[k])
                    line_start = (q - self.p) + 1 if q != NULL else starts[k]
                    total += self.file_lines(k, starts[k], ends[k], line_start, max_count)
                    if 0 <= budget <= total:
                        return 0
                pos = starts[k + 1] if k < j else stop + 1  # the next file (or past a gap)
            i = j + 1
        return 0

