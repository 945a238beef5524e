#!/usr/bin/env bash
# System packages the project needs beyond Python: LibreOffice headless, the real
# spreadsheet program that tests (and the demo's check) open every workbook with.
# Idempotent: does nothing when soffice is already on PATH.
set -euo pipefail
if command -v soffice >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "LibreOffice (soffice) is required: install libreoffice-calc-nogui or an equivalent package" >&2
  exit 1
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends libreoffice-calc-nogui >/dev/null
command -v soffice >/dev/null
