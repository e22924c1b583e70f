# cython: language_level=3, boundscheck=False, wraparound=False
# distutils: language = c++
"""A file result's matching lines as LSP JSON, written in C (`lsp_server.search`).

The engine builds a line in ~0.1-0.5 µs; writing its JSON in Python (decode, quote, format)
took ~1 µs more, which made the adapter +60% of a search. Here an ASCII line costs a copy
with escapes. Lines with any other byte (their text is decoded leniently and their columns
may need UTF-16 units) are written by `line_json`, the Python writer, so the output is the
same text byte for byte (tests/lsp/test_result_json.py compares them).
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.unicode cimport PyUnicode_DecodeASCII
from libcpp.string cimport string, to_string

cdef const char *HEX = "0123456789abcdef"


cdef bint put_text(string &out, const unsigned char *p, Py_ssize_t n) noexcept:
    """The JSON string of an ASCII line less its trailing carriage returns and newlines,
    escaped as json's encode_basestring_ascii does; False (nothing written) otherwise."""
    cdef Py_ssize_t i
    cdef unsigned char c
    while n > 0 and (p[n - 1] == 10 or p[n - 1] == 13):
        n -= 1
    for i in range(n):
        if p[i] >= 0x80:
            return False
    out.push_back(b'"')
    for i in range(n):
        c = p[i]
        if c == b'"':
            out.append(b'\\"')
        elif c == b'\\':
            out.append(b'\\\\')
        elif 0x20 <= c <= 0x7e:
            out.push_back(c)
        elif c == 10:
            out.append(b'\\n')
        elif c == 13:
            out.append(b'\\r')
        elif c == 9:
            out.append(b'\\t')
        elif c == 8:
            out.append(b'\\b')
        elif c == 12:
            out.append(b'\\f')
        else:
            out.append(b'\\u00')
            out.push_back(HEX[c >> 4])
            out.push_back(HEX[c & 15])
    out.push_back(b'"')
    return True


cdef void put_range(string &out, string &row, object a, object b):
    out.append(b'{"start":{"line":')
    out.append(row)
    out.append(b',"character":')
    out.append(to_string(<long long>a))
    out.append(b'},"end":{"line":')
    out.append(row)
    out.append(b',"character":')
    out.append(to_string(<long long>b))
    out.append(b'}}')


def lines_json(list lines, object line_json) -> str:
    """The JSON objects of `lines` (Line tuples: number, offset, text, submatches), joined
    by commas: `{"line":..,"text":..,"ranges":[..]}`, or `"ranges":[],"context":true` for a
    context line. `line_json(line)` writes those that are not ASCII."""
    cdef string out, row
    cdef bytes text
    cdef list subs
    cdef Py_ssize_t k, size
    out.reserve(len(lines) * 160)
    for k in range(len(lines)):
        line = lines[k]
        text = line[2]
        size = out.size()
        if k:
            out.push_back(b',')
        row = to_string(<long long>(line[0] - 1))
        out.append(b'{"line":')
        out.append(row)
        out.append(b',"text":')
        if not put_text(out, <const unsigned char *>PyBytes_AS_STRING(text),
                        PyBytes_GET_SIZE(text)):
            out.resize(size + (1 if k else 0))
            out.append(<bytes>line_json(line).encode("ascii"))
            continue
        subs = line[3]
        if not subs:
            out.append(b',"ranges":[],"context":true}')
            continue
        out.append(b',"ranges":[')
        for j in range(len(subs)):
            if j:
                out.push_back(b',')
            a, b = subs[j]
            put_range(out, row, a, b)
        out.append(b']}')
    return PyUnicode_DecodeASCII(out.data(), out.size(), NULL)
