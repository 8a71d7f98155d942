#!/usr/bin/python3
"""Cuts the report's fallback fonts, the fonts a name falls back to where the
main font (Remedy Kai, cut by subset.sh, or REMEDY_REPORT_FONT) has no glyph.

Run it after subset.sh, from anywhere: /usr/bin/python3 reports/fonts/fallbacks.py
Needs: apt-get install fonttools fonts-lxgw-wenkai fonts-hanazono fonts-nanum fonts-noto-core

fpdf reads a font's format 4 cmap only, so it can draw Basic Multilingual
Plane characters only. Each font below keeps just the glyphs that the cmap
reaches (no hinting, no layout tables: fpdf shapes nothing), covers only
what the fonts before it in the chain lack, and is stored gzipped (the
report decompresses a fallback the first time a name needs it):

  RemedyKaiExtra   LXGW WenKai: the rest of the CJK Unified Ideographs (all
                   20,992 with the main font), its extension A, kana,
                   Bopomofo, Latin extended, Greek, Cyrillic, symbols
  RemedyKaiAstral  LXGW WenKai: its 1,168 ideographs outside the BMP, in
                   extensions B to H (the 196 of the Table of General
                   Standard Chinese Characters, which GB 18030-2022 adds at
                   its level 2, 𠮷 and more names need), each at a
                   Private Use Area code point from U+E000 in code point
                   order; the same glyphs stay mapped from their real code
                   points in the format 12 cmap, which is how the renderer
                   learns the pairs and writes a ToUnicode map back to them
  RemedyHangul     Nanum Gothic: all of Hangul (11,172 syllables and jamo)
  RemedySans       Noto Sans and its fonts for living scripts of the BMP:
                   Arabic, Hebrew, Thai, Lao, Khmer, Myanmar, the Indic
                   scripts, Sinhala, Georgian, Armenian, Ethiopic and more
  RemedyMing       HanaMinA: CJK extension A and compatibility ideographs,
                   the rest of its BMP coverage, and U+FFFD, the mark drawn
                   for a character no font has

Licences: LXGW WenKai, Nanum and Noto are under the SIL OFL 1.1; HanaMinA
is under the Hanazono Font License or the OFL. LXGW ("LXGW"), Nanum and
HanaMin reserve their names, so every font made here is renamed "Remedy …"
(the Noto fonts reserve none, and a merge of many is renamed all the same).
"""

import gzip
import io
import os
import sys

from fontTools import subset
from fontTools.merge import Merger
from fontTools.ttLib import TTFont
from fontTools.ttLib.tables._c_m_a_p import CmapSubtable
from fontTools.ttLib.tables._g_l_y_f import Glyph

HERE = os.path.dirname(os.path.abspath(__file__))
LXGW = "/usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf"
HANA = "/usr/share/fonts/truetype/hanazono/HanaMinA.ttf"
NANUM = "/usr/share/fonts/truetype/nanum/NanumGothic.ttf"
NOTO = "/usr/share/fonts/truetype/noto/"
# Noto Sans first (Latin, Greek, Cyrillic), then one font a script. Where
# two cover a character, the earlier wins.
NOTO_FONTS = """NotoSans Arabic Hebrew Thai Lao Khmer Myanmar Devanagari Bengali
Gurmukhi Gujarati Oriya Tamil Telugu Kannada Malayalam Sinhala Georgian Armenian
Ethiopic Thaana Syriac Mongolian Tifinagh Cherokee CanadianAboriginal NKo Vai
TaiLe NewTaiLue TaiTham TaiViet Javanese Balinese Sundanese Buginese Tagalog
Lisu Yi Symbols Symbols2""".split()

PUA = range(0xE000, 0xF900)
HANGUL = set(range(0x1100, 0x1200)) | set(range(0x3130, 0x3190)) | set(range(0xA960, 0xA980)) \
    | set(range(0xAC00, 0xD7A4)) | set(range(0xD7B0, 0xD800))
REPLACEMENT = 0xFFFD


def bmp_cmap(path):
    return {cp: g for cp, g in TTFont(path, lazy=True).getBestCmap().items() if cp <= 0xFFFF}


def main_font_coverage():
    """What RemedyKai-Regular.ttf (subset.sh) maps."""
    return set(TTFont(os.path.join(HERE, "RemedyKai-Regular.ttf"), lazy=True).getBestCmap())


def cut(src, unicodes):
    """src subset to unicodes: glyphs the cmap reaches, outlines only."""
    opts = subset.Options()
    opts.hinting = False
    opts.layout_features = []
    opts.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "JSTF", "DSIG", "kern", "vhea", "vmtx", "VORG",
                         "FFTM", "prop", "TSI0", "TSI1", "TSI2", "TSI3", "TSI5", "meta"]
    opts.notdef_outline = True
    opts.name_IDs = [0, 1, 2, 3, 4, 5, 6, 13, 14]
    opts.name_languages = [0x409]
    f = TTFont(src, recalcTimestamp=False) if isinstance(src, str) else src
    s = subset.Subsetter(opts)
    s.populate(unicodes=sorted(unicodes))
    s.subset(f)
    return f


def rename(f, family):
    """Gives f the family name family, style Regular, as the OFL asks of a
    modified font whose name is reserved."""
    ps = family.replace(" ", "") + "-Regular"
    names = {1: family, 2: "Regular", 3: ps, 4: family + " Regular", 6: ps}
    table = f["name"]
    table.names = [n for n in table.names if n.nameID not in (16, 17, 18, 21, 22)]
    for n in table.names:
        if n.nameID in names:
            n.string = names[n.nameID]
    for cp, g in names.items():
        if table.getName(cp, 3, 1, 0x409) is None:
            table.setName(g, cp, 3, 1, 0x409)


def full_metrics(f):
    """Gives every glyph its own advance in hmtx (numberOfHMetrics equal to
    numGlyphs), adding an empty glyph with another advance at the end if the
    last two share theirs, which fontTools would fold. fpdf v0.9.0, reading
    the advance of a glyph past numberOfHMetrics, writes into the font's
    bytes, which the report shares between documents."""
    order = list(f.getGlyphOrder())
    hmtx = f["hmtx"]
    last = hmtx[order[-1]][0]
    if len(order) > 1 and last == hmtx[order[-2]][0]:
        name = ".remedy.end"
        hmtx[name] = (0 if last else 1, 0)
        f["glyf"][name] = Glyph()
        f.setGlyphOrder(order + [name])


def save(f, name):
    """Writes f gzipped, byte for byte the same on every run."""
    full_metrics(f)
    buf = io.BytesIO()
    f.recalcTimestamp = False
    f.save(buf)
    path = os.path.join(HERE, name + ".ttf.gz")
    with open(path, "wb") as out:
        with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=out, mtime=0) as z:
            z.write(buf.getvalue())
    saved = TTFont(io.BytesIO(buf.getvalue()))
    assert saved["hhea"].numberOfHMetrics == saved["maxp"].numGlyphs, name
    print("%s: %d glyphs, %d bytes, %d gzipped" % (name, saved["maxp"].numGlyphs, len(buf.getvalue()),
                                                   os.path.getsize(path)), file=sys.stderr)


def main():
    have = main_font_coverage()

    lxgw = TTFont(LXGW, lazy=True).getBestCmap()
    extra = {cp for cp in lxgw if cp <= 0xFFFF and cp not in have and cp not in HANGUL and cp not in PUA
             and cp >= 0x20}
    f = cut(LXGW, extra)
    rename(f, "Remedy Kai Extra")
    save(f, "RemedyKaiExtra-Regular")
    have |= extra

    # The astral ideographs, each also at a code point of the Private Use
    # Area, in code point order.
    astral = sorted(cp for cp in lxgw if cp > 0xFFFF and 0x20000 <= cp <= 0x3FFFF)
    assert len(astral) <= len(PUA)
    f = cut(LXGW, astral)
    cmap = f.getBestCmap()
    pua = {PUA[i]: cmap[cp] for i, cp in enumerate(astral)}
    tables = []
    for platform, encoding, fmt in ((0, 3, 4), (0, 4, 12), (3, 1, 4), (3, 10, 12)):
        t = CmapSubtable.newSubtable(fmt)
        t.platformID, t.platEncID, t.language = platform, encoding, 0
        t.cmap = dict(pua) if fmt == 4 else {**cmap, **pua}
        tables.append(t)
    f["cmap"].tables = tables
    rename(f, "Remedy Kai Astral")
    save(f, "RemedyKaiAstral-Regular")

    hangul = set(bmp_cmap(NANUM)) & HANGUL
    f = cut(NANUM, hangul)
    rename(f, "Remedy Hangul")
    save(f, "RemedyHangul-Regular")
    have |= hangul

    # Each Noto font cut to what is still missing, then merged into one.
    parts = []
    for name in NOTO_FONTS:
        path = NOTO + (name if name == "NotoSans" else "NotoSans" + name) + "-Regular.ttf"
        want = {cp for cp in bmp_cmap(path) if cp not in have and cp not in PUA and cp >= 0x20}
        if not want:
            continue
        part = cut(path, want)
        have |= want
        tmp = io.BytesIO()
        part.save(tmp)
        tmp.seek(0)
        parts.append(tmp)
    f = Merger().merge(parts)
    # The merge dates itself now; date it as the Noto Sans it starts from.
    noto = TTFont(NOTO + "NotoSans-Regular.ttf", lazy=True)["head"]
    f["head"].created, f["head"].modified = noto.created, noto.modified
    rename(f, "Remedy Sans")
    save(f, "RemedySans-Regular")

    ming = {cp for cp in bmp_cmap(HANA) if cp not in have and cp not in PUA and cp >= 0x20} | {REPLACEMENT}
    f = cut(HANA, ming)
    rename(f, "Remedy Ming")
    save(f, "RemedyMing-Regular")


if __name__ == "__main__":
    main()
