"""`python -m appliance` is the same as the `appliance` command."""

import sys

from appliance.app.cli import main

if __name__ == "__main__":
    sys.exit(main())
