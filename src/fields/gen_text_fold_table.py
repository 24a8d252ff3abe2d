#!/usr/bin/env python3
"""Generates text_fold_table.inc: the per-code-point search-key folding table.

Run from the repository root:  python3 src/fields/gen_text_fold_table.py > src/fields/text_fold_table.inc

The table is derived from the Unicode Character Database that ships with Python
(unicodedata), not written by hand, so it can be regenerated for a newer Unicode
version. Rules, applied to every code point of the covered blocks:
  1. separators (not a letter or digit: punctuation, symbols, spaces, controls) -> " "
  2. combining marks (U+0300..U+036F, and marks left by decomposition) -> dropped
  3. Latin: NFKD, drop marks, lowercase; letters without a decomposition
     (o with stroke, l with stroke, ae, oe, sharp s ...) take the base letters from their
     Unicode name ("LATIN SMALL LETTER O WITH STROKE" -> "o", "LATIN CAPITAL LETTER AE" -> "ae"),
     plus a few named transliterations (thorn -> th, eth -> d, sharp s -> ss).
  4. Greek: lowercase, drop tonos/dialytika, final sigma -> sigma.
  5. Cyrillic: lowercase only, except io -> ie (e with diaeresis is written as e in
     Russian text); short i and other letters keep their identity.
Code points outside the covered blocks are not in the table: text_fold.cpp passes them
through unchanged, except those in the generated range lists: separators (categories P, S, Z,
Cc) become word breaks and invisible format characters (Cf: soft hyphen, zero-width joiners,
byte order mark) are dropped, inside the blocks as well.
"""
import re
import sys
import unicodedata

# Basic Latin .. Cyrillic; Latin Extended Additional (Vietnamese); fullwidth ASCII forms.
BLOCKS = [(0x0000, 0x0500), (0x1E00, 0x1F00), (0xFF00, 0xFF60)]

# Letters whose name does not spell their transliteration.
NAMED = {
    0x00DF: "ss",  # sharp s
    0x1E9E: "ss",  # capital sharp s
    0x00DE: "th", 0x00FE: "th",  # thorn
    0x00D0: "d", 0x00F0: "d",  # eth
    0x0131: "i",  # dotless i
    0x0138: "k",  # kra
    0x014A: "n", 0x014B: "n",  # eng
    0x01B7: "z", 0x0292: "z", 0x01EE: "z", 0x01EF: "z",  # ezh
    0x01F7: "w", 0x01BF: "w",  # wynn
    0x021C: "y", 0x021D: "y",  # yogh
    0x0149: "n",  # n preceded by apostrophe
    0x0238: "db", 0x0239: "qp",
}

NAME_RE = re.compile(r"^LATIN (?:SMALL|CAPITAL) (?:LETTER|LIGATURE) ([A-Z]{1,2})(?: WITH .*)?$")


def is_mark(ch):
    return unicodedata.category(ch).startswith("M")


def is_word_char(ch):
    cat = unicodedata.category(ch)
    return cat[0] in ("L", "N")


def is_separator(ch):
    cat = unicodedata.category(ch)
    return cat[0] in ("P", "S", "Z") or cat == "Cc"


def ranges_outside_blocks(predicate):
    ranges = []
    start = None
    for cp in range(0, 0x110000):
        inside = any(lo <= cp < hi for lo, hi in BLOCKS)
        hit = not inside and predicate(chr(cp))
        if hit and start is None:
            start = cp
        if not hit and start is not None:
            ranges.append((start, cp - 1))
            start = None
    if start is not None:
        ranges.append((start, 0x10FFFF))
    return ranges


def write_ranges(out, name, ranges):
    out.write("inline constexpr CodePointRange %s[] = {\n" % name)
    for i in range(0, len(ranges), 4):
        row = ", ".join("{0x%04X, 0x%04X}" % r for r in ranges[i:i + 4])
        out.write("    %s,\n" % row)
    out.write("};\n")


def fold_latin(cp):
    ch = chr(cp)
    if cp in NAMED:
        return NAMED[cp]
    decomposed = "".join(c for c in unicodedata.normalize("NFKD", ch) if not is_mark(c))
    if decomposed and all(c.isascii() for c in decomposed):
        out = decomposed.lower()
        # NFKD of some letters yields punctuation (U+0149 'n -> "'n"); keep letters only.
        out = "".join(c for c in out if c.isalnum())
        if out:
            return out
    match = NAME_RE.match(unicodedata.name(ch, ""))
    if match:
        return match.group(1).lower()
    lower = ch.lower()
    if len(lower) == 1 and lower != ch:
        return fold(ord(lower))  # the small letter may have a name the rule above knows
    return ch


def fold_greek(cp):
    ch = chr(cp)
    base = "".join(c for c in unicodedata.normalize("NFD", ch) if not is_mark(c))
    if len(base) != 1:
        return ch
    out = base.lower()
    if out == "\u03c2":  # final sigma
        out = "\u03c3"
    return out if len(out) == 1 else ch


def fold_cyrillic(cp):
    ch = chr(cp)
    if cp in (0x0401, 0x0451):
        return "\u0435"
    out = ch.lower()
    return out if len(out) == 1 else ch


def is_ignorable(ch):
    return unicodedata.category(ch) == "Cf"


def fold(cp):
    ch = chr(cp)
    if 0x0300 <= cp <= 0x036F or is_ignorable(ch):
        return ""
    if not is_word_char(ch):
        return " "
    if cp < 0x80:
        return ch.lower()
    if 0x0370 <= cp <= 0x03FF:
        return fold_greek(cp)
    if 0x0400 <= cp <= 0x04FF:
        return fold_cyrillic(cp)
    return fold_latin(cp)


def c_bytes(text):
    data = text.encode("utf-8")
    assert len(data) <= 3, (text, data)
    return len(data), "".join("\\x%02x" % b for b in data)


def main():
    out = sys.stdout
    out.write("// Generated by src/fields/gen_text_fold_table.py from the Unicode Character Database\n")
    out.write("// (Unicode %s). Do not edit by hand; regenerate instead.\n" % unicodedata.unidata_version)
    out.write("// Each entry: folded UTF-8 length (0 = dropped) and bytes; \" \" marks a separator.\n")
    for start, end in BLOCKS:
        out.write("inline constexpr FoldEntry kFold%04X[0x%X] = {\n" % (start, end - start))
        for cp in range(start, end):
            length, data = c_bytes(fold(cp))
            out.write('    {%d, "%s"},  // U+%04X\n' % (length, data, cp))
        out.write("};\n")
    write_ranges(out, "kSeparatorRanges", ranges_outside_blocks(is_separator))
    write_ranges(out, "kIgnorableRanges", ranges_outside_blocks(is_ignorable))


if __name__ == "__main__":
    main()
