"""
Real processes for the tests and the benchmarks: redis-server on a free
loopback port, the presque daemon under twistd, and the waiting that goes
with starting and watching them. Shared so that tests and bench/ start
and stop things one way. Not part of the installed package.
"""
