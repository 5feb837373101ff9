"""``python -m guardcode.server``: the language server over stdio."""

import sys

from guardcode.server.cli import main

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))
