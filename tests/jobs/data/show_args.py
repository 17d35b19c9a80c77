"""Test program: prints its arguments, the HOSTILE variable and HPCARRAY_* settings as JSON."""

import json
import os
import sys

print(
    json.dumps(
        {
            "argv": sys.argv[1:],
            "hostile": os.environ.get("HOSTILE"),
            "hpcarray": {k: v for k, v in os.environ.items() if k.startswith("HPCARRAY_")},
        }
    ),
    flush=True,
)
