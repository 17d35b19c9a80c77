"""``python -m benchmarks``: run the benchmark suite and print one Markdown table."""

import sys

from benchmarks.runner import main

if __name__ == "__main__":
    sys.exit(main())
