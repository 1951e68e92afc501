"""``python -m mentorlib``: the command line, with Ctrl-C at any moment exiting 130 quietly."""

import signal
import sys

# Ctrl-C interrupts from the first moment, as it does once the command line has started (its
# handler replaces whatever was inherited): a parent that started us with SIGINT ignored (a
# background job of a script) would otherwise lose an interrupt sent while the libraries load.
signal.signal(signal.SIGINT, signal.default_int_handler)

try:
    from .cli import main

    code = main()
except KeyboardInterrupt:  # while the libraries load, before main() can catch it
    try:
        sys.stderr.write("mentorlib: interrupted\n")
    except Exception:
        pass
    code = 130  # cli.EXIT_INTERRUPTED (cli may not have finished importing)
sys.exit(code)
