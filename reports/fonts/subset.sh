#!/bin/sh
# Cuts the report font from Debian's fonts-lxgw-wenkai (LXGW WenKai 1.250,
# SIL OFL 1.1, LICENSE-LXGWWenKai.txt): Latin with its extensions (Vietnamese,
# Turkish, Polish...), Greek, Cyrillic, punctuation, currency signs, CJK
# symbols, full-width forms and the 6,763 hanzi of GB 2312, without hinting or layout
# features (fpdf uses neither). As a modified version it may not carry the
# reserved name "LXGW", so its family is renamed "Remedy Kai".
# Needs: apt-get install fonttools fonts-lxgw-wenkai fonts-hanazono fonts-nanum fonts-noto-core
set -eu
cd "$(dirname "$0")"
src=/usr/share/fonts/truetype/lxgw-wenkai
/usr/bin/python3 - <<'PY' > unicodes.txt
cps = set(range(0x20, 0x7f)) | set(range(0xa0, 0x100)) | set(range(0x2010, 0x2070)) \
    | set(range(0x3000, 0x3040)) | set(range(0xff00, 0xff70)) | {0x2116, 0x2122, 0x2190, 0x2192, 0x2212, 0x25a0, 0x25cf} \
    | set(range(0x100, 0x250)) | set(range(0x2b0, 0x370)) | set(range(0x370, 0x400)) | set(range(0x400, 0x530)) \
    | set(range(0x1e00, 0x1f00)) | set(range(0x20a0, 0x20c1))
for cp in range(0x4e00, 0xa000):
    try:
        chr(cp).encode("gb2312")
        cps.add(cp)
    except UnicodeEncodeError:
        pass
print("\n".join("U+%04X" % c for c in sorted(cps)))
PY
for style in Regular Bold; do
  pyftsubset "$src/LXGWWenKai-$style.ttf" --unicodes-file=unicodes.txt --no-hinting \
    --layout-features='' --output-file="RemedyKai-$style.ttf.tmp"
  /usr/bin/python3 - "$style" <<'PY'
import sys
from fontTools.ttLib import TTFont
style = sys.argv[1]
f = TTFont("RemedyKai-%s.ttf.tmp" % style, recalcTimestamp=False)
for rec in f["name"].names:
    if rec.nameID in (1, 3, 4, 6, 16):
        name = {1: "Remedy Kai", 16: "Remedy Kai", 3: "RemedyKai-%s" % style,
                4: "Remedy Kai %s" % style, 6: "RemedyKai-%s" % style}[rec.nameID]
        rec.string = name
from fallbacks import full_metrics
full_metrics(f)
f.save("RemedyKai-%s.ttf" % style)
f = TTFont("RemedyKai-%s.ttf" % style)
assert f["hhea"].numberOfHMetrics == f["maxp"].numGlyphs
PY
  rm "RemedyKai-$style.ttf.tmp"
done
rm unicodes.txt
# The fonts a character falls back to when this one lacks it.
/usr/bin/python3 fallbacks.py
