import sys

from lwviz.cli import main

sys.exit(main())
