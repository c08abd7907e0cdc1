"""`python -m appliance` is the same as the `appliance` command."""

import sys

from appliance.app.entry import main

if __name__ == "__main__":
    sys.exit(main())
