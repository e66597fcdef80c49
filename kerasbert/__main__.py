import sys

from kerasbert.commands import main

sys.exit(main())
