"""The compiled line scanner (indexer/_linescan.pyx) and the language server's writer of search
results (lsp_server/_result_json.pyx), both C++. Everything else is in pyproject.toml.

Both are optional: without a C++ compiler the install still succeeds and the same loops run in
Python, slower where a search matches very many lines."""

from setuptools import Extension, setup

try:
    from Cython.Build import cythonize
except ImportError:  # building from a source tree without Cython: pure Python
    ext_modules = []
else:
    ext_modules = cythonize(
        [Extension("indexer._linescan", ["indexer/_linescan.pyx"], language="c++",
                   include_dirs=["indexer"], libraries=["dl"],
                   extra_compile_args=["-O3", "-std=c++17"], optional=True),
         Extension("lsp_server._result_json", ["lsp_server/_result_json.pyx"],
                   language="c++", extra_compile_args=["-O3", "-std=c++17"], optional=True)],
        compiler_directives={"language_level": "3"},
    )

setup(ext_modules=ext_modules)
