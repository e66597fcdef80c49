import sys

from kerasbert.cli import main

sys.exit(main())
