#!/usr/bin/env bash
# System packages the project needs beyond Python: LibreOffice headless — Calc and
# Writer — the real office programs that tests (and the demo's check) open every
# workbook and every Word document (Mẫu số 02) with.
# Idempotent: does nothing when both are already installed.
set -euo pipefail
PACKAGES=(libreoffice-calc-nogui libreoffice-writer-nogui)
if command -v dpkg-query >/dev/null 2>&1; then
  missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && exit 0
elif command -v soffice >/dev/null 2>&1; then
  exit 0      # not a Debian system: trust the installed LibreOffice
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "LibreOffice is required: install Calc and Writer (Debian: ${PACKAGES[*]})" >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
command -v soffice >/dev/null
