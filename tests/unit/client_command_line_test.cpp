#include <gtest/gtest.h>

#include "client/command_line.hpp"
#include "client/file_transfer.hpp"
#include "client/progress.hpp"

namespace nm::client {

using Words = std::vector<std::string>;

TEST(ClientCommandLine, SplitsOnBlanks) {
  EXPECT_EQ(split_command_line("  get   a.txt\tb.txt  "), (Words{"get", "a.txt", "b.txt"}));
  EXPECT_EQ(split_command_line(""), Words{});
  EXPECT_EQ(split_command_line("   "), Words{});
}

TEST(ClientCommandLine, QuotesKeepSpaces) {
  EXPECT_EQ(split_command_line("get \"my file.txt\" 'local copy.txt'"),
            (Words{"get", "my file.txt", "local copy.txt"}));
  EXPECT_EQ(split_command_line("put a\"b c\"d"), (Words{"put", "ab cd"}));
  EXPECT_EQ(split_command_line("rename \"\" x"), (Words{"rename", "", "x"}));
}

TEST(ClientCommandLine, Escapes) {
  EXPECT_EQ(split_command_line("get my\\ file"), (Words{"get", "my file"}));
  EXPECT_EQ(split_command_line("get \"say \\\"hi\\\"\""), (Words{"get", "say \"hi\""}));
  EXPECT_EQ(split_command_line("get 'a\\b'"), (Words{"get", "a\\b"}));
}

TEST(ClientCommandLine, UnterminatedQuote) {
  EXPECT_FALSE(split_command_line("get \"a"));
  EXPECT_FALSE(split_command_line("get 'a"));
}

TEST(ClientCommandLine, QuoteWordRoundTrips) {
  for (std::string word : {"plain", "with space", "quo\"te", "back\\slash", "", "it's"}) {
    auto words = split_command_line("x " + quote_word(word));
    ASSERT_TRUE(words);
    ASSERT_EQ(words->size(), 2u) << word;
    EXPECT_EQ((*words)[1], word);
  }
}

TEST(ClientFileNames, BaseAndPartialNames) {
  EXPECT_EQ(base_name("a/b.txt"), "b.txt");
  EXPECT_EQ(base_name("b.txt"), "b.txt");
  EXPECT_EQ(base_name("dir/"), "dir");
  EXPECT_EQ(partial_name("b.txt"), ".b.txt.part");
  EXPECT_EQ(partial_name("/tmp/x/b.txt"), "/tmp/x/.b.txt.part");
}

TEST(ClientProgress, Formats) {
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(format_bytes(3u * 1024 * 1024), "3.0 MiB");
  EXPECT_EQ(format_duration(7), "0:07");
  EXPECT_EQ(format_duration(3723), "1:02:03");
}

}  // namespace nm::client
