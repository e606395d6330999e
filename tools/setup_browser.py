"""Make sure the browser test can run: Debian's Chromium at /usr/bin/chromium.

Part of the README's test command (and so of CI).  Installs Debian's
``chromium`` package with apt-get when it is missing and this is a Debian
machine we are root on; otherwise says what to install.  Never downloads a
browser build of its own (``playwright install`` is not used: the tests drive
the system Chromium through Playwright's ``executable_path``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

CHROMIUM = os.environ.get("LEONET_CHROMIUM", "/usr/bin/chromium")


def main() -> int:
    if os.path.exists(CHROMIUM):
        print(f"setup_browser: {CHROMIUM} is there")
        return 0
    apt = shutil.which("apt-get")
    if apt and os.geteuid() == 0:
        print("setup_browser: installing Debian's chromium (apt-get)", flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run([apt, "update", "-qq"], check=True, env=env)
        subprocess.run([apt, "install", "-y", "-qq", "--no-install-recommends", "chromium"], check=True, env=env)
        if os.path.exists(CHROMIUM):
            return 0
    message = (
        f"setup_browser: {CHROMIUM} is missing; install Debian's chromium package "
        "(sudo apt-get install chromium) or set LEONET_CHROMIUM to a Chromium binary"
    )
    print(message, file=sys.stderr)
    # In CI the browser test must not be skipped: fail here, loudly.
    return 1 if os.environ.get("CI") else 0


if __name__ == "__main__":
    sys.exit(main())
