"""Build of the optional C kernel of the tally (``pbvote.tally.mes._mes_kernel``).

Everything else is declared in ``setup.cfg``. The extension is optional: if it
cannot be compiled (no C compiler or no Python headers), the install goes on
and the tally takes its numpy/exact paths, with the same results.
"""

import os

from setuptools import Extension, setup

flags = ["-O2", "-Wall", "-Wextra"] if os.name == "posix" else []

setup(ext_modules=[Extension("pbvote.tally.mes._mes_kernel",
                             ["pbvote/tally/mes/_mes_kernel.c", "pbvote/tally/mes/_mes_kernel_run.c"],
                             depends=["pbvote/tally/mes/_mes_kernel.h"],
                             extra_compile_args=flags, optional=True)])
