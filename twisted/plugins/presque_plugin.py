"""twistd glue: ``twistd -n presque --config etc/presque.ini``."""

from twisted.application.service import ServiceMaker

presque = ServiceMaker(
    "presque",
    "presque.tap",
    "A persistent job queue with a REST interface, backed by Redis.",
    "presque",
)
