"""``python -m bot``: the same as the ``lectern`` command."""

import sys

from .cli import main

sys.exit(main())
