import sys

from validate.run import main

sys.exit(main())
