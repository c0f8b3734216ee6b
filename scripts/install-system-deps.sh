#!/usr/bin/env bash
# The system packages the service and its tests need beyond Python (Debian/Ubuntu, apt):
#   - WeasyPrint's libraries (PDF reports): Pango, PangoFT2, HarfBuzz, fontconfig;
#   - fonts-noto-cjk: Chinese text in PDFs and charts;
#   - poppler-utils: pdftotext/pdftoppm (the PDF tests read the PDF's text);
#   - chromium: headless screenshots of the report page.
# Idempotent: installs only what is missing, and does nothing when everything is there.
# Runs as root, or through sudo otherwise. Usage: scripts/install-system-deps.sh [--check]
#   --check  list what is missing and exit 1 if anything is (installs nothing).
set -euo pipefail

PACKAGES=(
  libpango-1.0-0
  libpangoft2-1.0-0
  libharfbuzz0b
  libharfbuzz-subset0
  libfontconfig1
  fonts-noto-cjk
  poppler-utils
  chromium
)

installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

missing=()
for package in "${PACKAGES[@]}"; do
  installed "$package" || missing+=("$package")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present (${#PACKAGES[@]})"
  exit 0
fi
if [ "${1:-}" = "--check" ]; then
  echo "system packages missing: ${missing[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "system packages missing: ${missing[*]}; install them with your package manager" >&2
  echo "(this script knows apt-get only)" >&2
  exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "system packages missing: ${missing[*]}; run this script as root (no sudo here)" >&2
  exit 1
fi

echo "installing: ${missing[*]}"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  "${missing[@]}"
