"""
The HTTP and long-polling benchmarks of presque, run as modules from the
checkout's root (C{python -m bench.run}, C{python -m bench.longpoll}) so
that they share L{harness} with the tests. Not part of the installed package.
"""
