#!/usr/bin/env python3
"""Run the test harness's own unit tests (tests/harness/test_*.py).

Usage: tests/harness/run_unit.py [-v] [-k PATTERN]

Prints unittest's report on stderr and, as the last line on stdout,
'N passed, N failed[, N skipped]'.  Exit status 0 if every test passed.
Equivalent to: python3 -m unittest discover -s tests/harness -p 'test_*.py'
"""

import argparse
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harnesslib  # noqa: E402


def main():
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("-v", "--verbose", action="store_true",
                   help="name each test as it runs")
    p.add_argument("-k", metavar="PATTERN", action="append",
                   help="only tests whose name contains PATTERN (as unittest -k)")
    args = p.parse_args()
    harnesslib.RUNNER_OWNS_SUMMARY = True
    loader = unittest.TestLoader()
    if args.k:
        loader.testNamePatterns = ["*%s*" % k for k in args.k]
    suite = loader.discover(HERE, pattern="test_*.py", top_level_dir=HERE)
    runner = unittest.TextTestRunner(verbosity=2 if args.verbose else 1)
    result = runner.run(suite)
    sys.stderr.flush()
    print(harnesslib.summary(result), flush=True)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
