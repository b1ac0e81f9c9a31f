"""``python -m bot``: the same as the ``lectern`` command."""

import sys

from .cli import main

if __name__ == "__main__":  # not when a worker process re-imports it (multiprocessing spawn)
    sys.exit(main())
