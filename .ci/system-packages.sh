#!/usr/bin/env bash
# Debian packages the tests need: LibreOffice (PDF) with its Python bridge (python3-uno, for the
# persistent converter), CJK fonts, poppler (pdftotext, pdffonts, pdftoppm), Chromium (headless, for the
# Prefect UI check in tests/prefect/test_ui_browser.py); and the Fandol fonts
# (仿宋 / 楷体 / 黑体 / 宋体 stand-ins) unpacked from texlive-lang-chinese without installing TeX.
set -euo pipefail
need=()
command -v soffice >/dev/null || need+=(libreoffice-writer-nogui)
dpkg -s python3-uno >/dev/null 2>&1 || need+=(python3-uno)
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || need+=(fonts-noto-cjk)
command -v pdftotext >/dev/null || need+=(poppler-utils)
command -v chromium >/dev/null || need+=(chromium)
if ((${#need[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

fandol=/usr/local/share/fonts/fandol
if [ ! -f "$fandol/FandolFang-Regular.otf" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && apt-get download -qq texlive-lang-chinese 2>/dev/null \
    || { apt-get update -qq && apt-get download -qq texlive-lang-chinese 2>/dev/null; })
  dpkg-deb -x "$work"/texlive-lang-chinese_*.deb "$work/root"
  mkdir -p "$fandol"
  cp "$work"/root/usr/share/texlive/texmf-dist/fonts/opentype/public/fandol/Fandol{Fang,Kai,Hei,Song}-*.otf "$fandol/"
  fc-cache -f "$fandol" >/dev/null
fi
