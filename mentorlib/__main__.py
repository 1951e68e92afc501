"""``python -m mentorlib``: the command line, with Ctrl-C at any moment exiting 130 quietly."""

import sys

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
