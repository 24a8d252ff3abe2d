#include <gtest/gtest.h>

#include <random>
#include <string>

#include "fields/text_fold.h"

namespace extdata::fields {
namespace {

// Strict UTF-8 check, written independently of text_fold's decoder.
bool is_valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = s[i];
    size_t n;
    uint32_t cp;
    if (c < 0x80) {
      n = 0, cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      n = 1, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (size_t k = 1; k <= n; ++k) {
      const unsigned char d = s[i + k];
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    static const uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

TEST(SearchFold, GermanUmlautsAndCase) {
  EXPECT_EQ(fold_for_search("Müller GmbH"), "muller gmbh");
  EXPECT_EQ(fold_for_search("MÜLLER"), "muller");
  EXPECT_EQ(fold_for_search("Straße"), "strasse");
  EXPECT_EQ(fold_for_search("STRAẞE"), "strasse");
}

TEST(SearchFold, FrenchAccents) {
  EXPECT_EQ(fold_for_search("Société Générale"), "societe generale");
  EXPECT_EQ(fold_for_search("Œuvre Ça Île"), "oeuvre ca ile");
}

TEST(SearchFold, LettersWithoutDecomposition) {
  EXPECT_EQ(fold_for_search("Ærøskøbing"), "aeroskobing");
  EXPECT_EQ(fold_for_search("Łódź"), "lodz");
  EXPECT_EQ(fold_for_search("Đorđe"), "dorde");
  EXPECT_EQ(fold_for_search("Þórður"), "thordur");
  EXPECT_EQ(fold_for_search("Ħal Ŧ ı"), "hal t i");
}

TEST(SearchFold, LatinExtendedAdditionalAndFullwidth) {
  EXPECT_EQ(fold_for_search("Nguyễn Thị Đặng"), "nguyen thi dang");
  EXPECT_EQ(fold_for_search("ＡＢＣ１２３"), "abc123");
}

TEST(SearchFold, DecomposedInputLosesItsMarks) {
  EXPECT_EQ(fold_for_search("Cafe\xCC\x81"), "cafe");  // e + U+0301 combining acute
  EXPECT_EQ(fold_for_search("Mu\xCC\x88ller"), "muller");
}

TEST(SearchFold, CyrillicLowercase) {
  EXPECT_EQ(fold_for_search("МОСКВА Ёлка"), "москва елка");
  EXPECT_EQ(fold_for_search("ЙОШКАР-ОЛА"), "йошкар ола");  // short i keeps its identity
  EXPECT_EQ(fold_for_search("ЄЇІҐ"), "єїіґ");
}

TEST(SearchFold, GreekLowercaseWithoutTonos) {
  EXPECT_EQ(fold_for_search("ΑΘΗΝΑ Ώρα ΟΔΟΣ"), "αθηνα ωρα οδοσ");
  EXPECT_EQ(fold_for_search("οδός"), "οδοσ");  // final sigma
  EXPECT_EQ(fold_for_search("ΐϋ"), "ιυ");
}

TEST(SearchFold, OtherScriptsPassThrough) {
  EXPECT_EQ(fold_for_search("東京株式会社"), "東京株式会社");
  EXPECT_EQ(fold_for_search("東京、大阪。"), "東京 大阪");  // ideographic punctuation separates
  EXPECT_EQ(fold_for_search("שלום עולם"), "שלום עולם");
  EXPECT_EQ(fold_for_search("\xF0\x9F\x98\x80 Smile"), "smile");  // emoji is a symbol
}

TEST(SearchFold, SeparatorsCollapse) {
  EXPECT_EQ(fold_for_search("  A--B  &  c.d "), "a b c d");
  EXPECT_EQ(fold_for_search("3M Deutschland, Inc."), "3m deutschland inc");
  EXPECT_EQ(fold_for_search("a\u00A0b\tc\nd"), "a b c d");
  EXPECT_EQ(fold_for_search(""), "");
  EXPECT_EQ(fold_for_search(" - . "), "");
}

TEST(SearchFold, InvisibleFormatCharactersDoNotBreakWords) {
  EXPECT_EQ(fold_for_search("Zimmer\u00ADmann"), "zimmermann");  // soft hyphen
  EXPECT_EQ(fold_for_search("\xEF\xBB\xBF"
                            "Acme"),
            "acme");                                 // byte order mark
  EXPECT_EQ(fold_for_search("Ac\u200Bme"), "acme");  // zero-width space
}

TEST(SearchFold, InvalidUtf8SeparatesWordsAndNeverLeaksIntoTheKey) {
  EXPECT_EQ(fold_for_search("M\xFFller"), "m ller");
  EXPECT_EQ(fold_for_search("abc\xC3"), "abc");  // truncated sequence
  EXPECT_EQ(fold_for_search("\xC0\xAF"
                            "x"),
            "x");  // overlong '/'
  EXPECT_EQ(fold_for_search("\xED\xA0\x80"
                            "x"),
            "x");  // surrogate
  EXPECT_EQ(fold_for_search("\xF4\x90\x80\x80"
                            "x"),
            "x");  // above U+10FFFF
  EXPECT_EQ(fold_for_search("\xE2\x82"
                            "A"),
            "a");                                             // truncated, then ASCII
  EXPECT_EQ(fold_for_search(std::string("a\0b", 3)), "a b");  // NUL is a control
}

TEST(SearchFold, RandomBytesYieldValidUtf8WithoutSpacesAtTheEnds) {
  std::mt19937 rng(42);
  std::uniform_int_distribution<int> byte(0, 255), length(0, 40);
  for (int i = 0; i < 20000; ++i) {
    std::string input(length(rng), '\0');
    for (char& c : input) c = static_cast<char>(byte(rng));
    const std::string key = fold_for_search(input);
    ASSERT_TRUE(is_valid_utf8(key)) << testing::PrintToString(input);
    if (!key.empty()) {
      ASSERT_NE(key.front(), ' ');
      ASSERT_NE(key.back(), ' ');
    }
    ASSERT_EQ(key.find("  "), std::string::npos);
    ASSERT_EQ(fold_for_search(key), key) << "folding is idempotent";
  }
}

TEST(SearchFold, AppendKeepsExistingContent) {
  std::string out = "prefix|";
  append_folded("  Ü ", out);
  EXPECT_EQ(out, "prefix|u");
}

}  // namespace
}  // namespace extdata::fields
