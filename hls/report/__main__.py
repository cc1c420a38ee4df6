import sys

from hls.report.build import main

sys.exit(main())
