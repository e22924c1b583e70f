/* RE2 called from C, through the library google-re2 already loaded.

   google-re2's Python binding costs ~1 us a call and hands the GIL back and forth on every
   one: a search that meets a match every few hundred bytes spends more time there than in
   RE2, and two threads contend for the GIL instead of running RE2 side by side. The
   binding's extension module carries RE2 itself, with `re2::RE2::Match` exported; we take
   the `RE2` object behind a compiled `re2._Regexp` through pybind11's cross-module conduit
   (`_pybind11_conduit_v1_`, made for handing raw pointers between extension modules) and
   call `Match` on it with no GIL held. Same engine, same compiled program, same results.

   Everything here is checked when it is bound (indexer/_linescan.pyx: `bind_re2`): the
   symbol must resolve and a set of probes must give what the Python binding gives, or the
   scanner keeps calling RE2 through Python. */

#include <Python.h>
#include <dlfcn.h>
#include <string_view>
#include <typeinfo>

/* pybind11 finds a registered C++ type by its std::type_info, which libstdc++ compares by
   mangled name: a class of this name is all the conduit needs to recognise re2::RE2. It is
   never instantiated, and nothing of RE2's layout is assumed. */
namespace re2 {
class RE2 {
    int never_used_;
};
}  // namespace re2

/* bool re2::RE2::Match(std::string_view text, size_t startpos, size_t endpos,
                        RE2::Anchor anchor, std::string_view* submatch, int nsubmatch) const
   called as a function whose first argument is `this` (the Itanium C++ ABI's convention). */
typedef bool (*codeloupe_re2_match_fn)(const void *re, std::string_view text, size_t startpos,
                                       size_t endpos, int anchor, std::string_view *submatch,
                                       int nsubmatch);

static codeloupe_re2_match_fn codeloupe_re2_match_ptr = nullptr;

#define CODELOUPE_RE2_MATCH_SYMBOL \
    "_ZNK3re23RE25MatchESt17basic_string_viewIcSt11char_traitsIcEEmmNS0_6AnchorEPS4_i"
#define CODELOUPE_RE2_MAX_GROUP 3

/* Resolve RE2::Match in the (already loaded) shared object at `path`: 0 on success. */
static int codeloupe_re2_resolve(const char *path) {
    void *handle = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
    if (handle == nullptr) return -1;
    codeloupe_re2_match_ptr = (codeloupe_re2_match_fn)dlsym(handle, CODELOUPE_RE2_MATCH_SYMBOL);
    return codeloupe_re2_match_ptr == nullptr ? -2 : 0;
}

static void codeloupe_re2_unresolve(void) { codeloupe_re2_match_ptr = nullptr; }

/* The capsule pybind11's conduit takes: a `const std::type_info *` of re2::RE2. */
static PyObject *codeloupe_re2_type_capsule(void) {
    return PyCapsule_New((void *)&typeid(re2::RE2), typeid(std::type_info).name(), nullptr);
}

/* The leftmost match of `re` in p[pos:end] (p[0:size] the whole text, so `^`, `$` and `\b`
   see the bytes around the span): 1 with group `group`'s span in *start, *stop; 0 for none
   (or a group that took no part). No GIL needed: RE2 objects are thread-safe. */
static inline int codeloupe_re2_find(const void *re, const unsigned char *p, Py_ssize_t size,
                                     Py_ssize_t pos, Py_ssize_t end, int group,
                                     Py_ssize_t *start, Py_ssize_t *stop) {
    std::string_view groups[CODELOUPE_RE2_MAX_GROUP + 1];
    if (!codeloupe_re2_match_ptr(re, std::string_view((const char *)p, (size_t)size),
                                 (size_t)pos, (size_t)end, 0 /* UNANCHORED */, groups,
                                 group + 1))
        return 0;
    if (groups[group].data() == nullptr) return 0;
    *start = (const unsigned char *)groups[group].data() - p;
    *stop = *start + (Py_ssize_t)groups[group].size();
    return 1;
}
