"""The audit chain's verification, timed in a process of its own so that the run can stop it:

    python -m bench.verify

Prints one JSON line: entries, seconds, whether the chain is intact. Run by bench/run.py.
"""

import json
import sys
import time


def main() -> int:
    import django

    django.setup()
    from tmo import auditchain

    started = time.perf_counter()
    result = auditchain.verify(batch_size=1000)
    seconds = time.perf_counter() - started
    line = {"entries": result.count, "seconds": seconds, "ok": result.ok, "message": result.message}
    sys.stdout.write(json.dumps(line) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
