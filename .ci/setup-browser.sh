# Sourced by .ci/run on a fresh machine: Debian's Chromium for the browser tests (tests/browser/).
# Playwright drives it through executable_path=/usr/bin/chromium; `playwright install` is never run
# (it downloads its own browser builds, which is not what we test against and fails offline).
if [ ! -x /usr/bin/chromium ]; then
  if command -v apt-get >/dev/null; then
    apt-get install -y -qq chromium > /dev/null
  else
    echo "setup-browser: no apt-get here; the browser tests will be skipped" >&2
  fi
fi
if [ -x /usr/bin/chromium ]; then
  /usr/bin/chromium --headless --no-sandbox --version 2>/dev/null || true
fi
