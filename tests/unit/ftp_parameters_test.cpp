#include "services/ftp/parameters.hpp"

#include <gtest/gtest.h>

namespace nm::ftp {
namespace {

TEST(FtpParameters, PortValid) {
  auto a = parse_port_argument("127,0,0,1,4,1");
  ASSERT_TRUE(a.has_value());
  EXPECT_TRUE(a->is_v4());
  EXPECT_EQ(a->to_string(), "127.0.0.1:1025");
  EXPECT_EQ(parse_port_argument("10,1,2,3,255,255")->to_string(), "10.1.2.3:65535");
  EXPECT_EQ(parse_port_argument("0,0,0,0,0,0")->to_string(), "0.0.0.0:0");
}

TEST(FtpParameters, PortAllowsSpacesAroundFields) {
  EXPECT_EQ(parse_port_argument(" 127, 0 ,0,1 , 4,1 ")->to_string(), "127.0.0.1:1025");
}

TEST(FtpParameters, PortMalformed) {
  for (const char* arg : {"", ",", "127,0,0,1,4", "127,0,0,1,4,1,7", "127,0,0,1,4,", ",0,0,1,4,1",
                          "127,0,0,1,4,,1", "a,b,c,d,e,f", "127,0,0,1,4,1x", "127.0.0.1,4,1",
                          "+1,0,0,1,4,1", "-1,0,0,1,4,1", "1 2,0,0,1,4,1", "127,0,0,1,4, "}) {
    EXPECT_FALSE(parse_port_argument(arg).has_value()) << '"' << arg << '"';
  }
}

TEST(FtpParameters, PortOutOfRange) {
  EXPECT_FALSE(parse_port_argument("256,0,0,1,4,1").has_value());
  EXPECT_FALSE(parse_port_argument("127,0,0,1,256,1").has_value());
  EXPECT_FALSE(parse_port_argument("127,0,0,1,4,1000").has_value());
  EXPECT_FALSE(parse_port_argument("127,0,0,1,4,99999999999999999999999").has_value());
}

TEST(FtpParameters, EprtIpv4AndIpv6) {
  auto v4 = parse_eprt_argument("|1|127.0.0.1|5282|");
  ASSERT_TRUE(std::holds_alternative<Address>(v4));
  EXPECT_EQ(std::get<Address>(v4).to_string(), "127.0.0.1:5282");
  auto v6 = parse_eprt_argument("|2|::1|5282|");
  ASSERT_TRUE(std::holds_alternative<Address>(v6));
  EXPECT_TRUE(std::get<Address>(v6).is_v6());
  EXPECT_EQ(std::get<Address>(v6).to_string(), "[::1]:5282");
  auto full = parse_eprt_argument("|2|2001:db8::7|65535|");
  ASSERT_TRUE(std::holds_alternative<Address>(full));
  EXPECT_EQ(std::get<Address>(full).port(), 65535);
}

TEST(FtpParameters, EprtAnyDelimiter) {
  auto a = parse_eprt_argument("!1!10.0.0.2!2000!");
  ASSERT_TRUE(std::holds_alternative<Address>(a));
  EXPECT_EQ(std::get<Address>(a).to_string(), "10.0.0.2:2000");
  // A delimiter that also appears inside the host cuts it in pieces.
  EXPECT_EQ(std::get<EprtError>(parse_eprt_argument(":2:::1:5282:")), EprtError::kMalformed);
}

TEST(FtpParameters, EprtUnsupportedProtocolIs522) {
  for (const char* arg : {"|3|127.0.0.1|5282|", "|0|127.0.0.1|5282|", "|x|127.0.0.1|5282|",
                          "||127.0.0.1|5282|", "|12|127.0.0.1|5282|"}) {
    auto r = parse_eprt_argument(arg);
    ASSERT_TRUE(std::holds_alternative<EprtError>(r)) << arg;
    EXPECT_EQ(std::get<EprtError>(r), EprtError::kUnsupportedProtocol) << arg;
  }
}

TEST(FtpParameters, EprtWrongFamilyIsMalformed) {
  EXPECT_EQ(std::get<EprtError>(parse_eprt_argument("|1|::1|5282|")), EprtError::kMalformed);
  EXPECT_EQ(std::get<EprtError>(parse_eprt_argument("|2|127.0.0.1|5282|")), EprtError::kMalformed);
}

TEST(FtpParameters, EprtMalformed) {
  for (const char* arg :
       {"", "|1|", "|1|||", "|1|127.0.0.1|5282", "|1|127.0.0.1|5282|x", "|1|127.0.0.1|5282||",
        "|1|127.0.0.1|0|", "|1|127.0.0.1|65536|", "|1|127.0.0.1|-1|", "|1|127.0.0.1|port|",
        "|1| 127.0.0.1|5282|", "|1|127.0.0.1| 5282|", "|1|127.0.0|5282|", "|1|127.0.0.1||"}) {
    auto r = parse_eprt_argument(arg);
    ASSERT_TRUE(std::holds_alternative<EprtError>(r)) << '"' << arg << '"';
    EXPECT_EQ(std::get<EprtError>(r), EprtError::kMalformed) << '"' << arg << '"';
  }
}

TEST(FtpParameters, Type) {
  for (const char* arg : {"I", "i", "L 8", "L8", "l 8"}) {
    EXPECT_EQ(parse_type_argument(arg), TypeArgument::kBinary) << arg;
  }
  for (const char* arg : {"A", "a", "A N", "a n"}) {
    EXPECT_EQ(parse_type_argument(arg), TypeArgument::kAscii) << arg;
  }
  for (const char* arg : {"A T", "A C", "E", "E N", "L 7", "L 16"}) {
    EXPECT_EQ(parse_type_argument(arg), TypeArgument::kUnsupported) << arg;
  }
  for (const char* arg : {"", "X", "Z", " I", "I ", "1"}) {
    EXPECT_EQ(parse_type_argument(arg), TypeArgument::kInvalid) << '"' << arg << '"';
  }
}

TEST(FtpParameters, Unsigned) {
  EXPECT_EQ(parse_u64("0"), 0u);
  EXPECT_EQ(parse_u64("18446744073709551615"), UINT64_MAX);
  EXPECT_FALSE(parse_u64("18446744073709551616").has_value());
  EXPECT_FALSE(parse_u64("").has_value());
  EXPECT_FALSE(parse_u64("12x").has_value());
  EXPECT_FALSE(parse_u64(" 12").has_value());
  EXPECT_FALSE(parse_u64("-1").has_value());
}

TEST(FtpParameters, FtpTime) {
  auto t = parse_ftp_time("20020717210715");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->tv_sec, 1026940035);
  EXPECT_EQ(t->tv_nsec, 0);
  EXPECT_EQ(parse_ftp_time("19700101000000")->tv_sec, 0);
  EXPECT_EQ(parse_ftp_time("20020717210715.5")->tv_nsec, 500000000);
  EXPECT_EQ(parse_ftp_time("20020717210715.123")->tv_nsec, 123000000);
  EXPECT_EQ(parse_ftp_time("20020717210715.1234567891234")->tv_nsec, 123456789);
  EXPECT_EQ(parse_ftp_time("20000229120000")->tv_sec, 951825600);  // 2000 is a leap year
  // A leap second stays in its minute.
  EXPECT_EQ(parse_ftp_time("20161231235960")->tv_sec, parse_ftp_time("20161231235959")->tv_sec);
}

TEST(FtpParameters, FtpTimeMalformed) {
  for (const char* arg :
       {"", "2002071721071", "200207172107155", "2002071721071x", "20021317210715",
        "20020017210715", "20020700210715", "20020732210715", "20020431210715", "19000229000000",
        "20010229000000", "20020717240715", "20020717216015", "20020717210761", "20020717210715.",
        "20020717210715.x", "20020717210715.1.2", " 20020717210715", "+0020717210715"}) {
    EXPECT_FALSE(parse_ftp_time(arg).has_value()) << '"' << arg << '"';
  }
}

TEST(FtpParameters, SplitFirstWord) {
  auto words = split_first_word("20020717210715 a file.txt");
  ASSERT_TRUE(words.has_value());
  EXPECT_EQ(words->first, "20020717210715");
  EXPECT_EQ(words->second, "a file.txt");
  for (const char* arg : {"", "one", " path", "word ", "word"}) {
    EXPECT_FALSE(split_first_word(arg).has_value()) << '"' << arg << '"';
  }
}

TEST(FtpParameters, MffFacts) {
  auto facts = parse_mff_facts("Modify=20020717210715;UNIX.mode=0644;");
  ASSERT_TRUE(facts.has_value());
  ASSERT_EQ(facts->size(), 2u);
  EXPECT_EQ((*facts)[0], (std::pair<std::string, std::string>{"modify", "20020717210715"}));
  EXPECT_EQ((*facts)[1], (std::pair<std::string, std::string>{"unix.mode", "0644"}));
  EXPECT_EQ(parse_mff_facts("x=;")->front().second, "");
  for (const char* arg : {"", ";", "modify", "modify=1", "=1;", "modify=1;;", "a=1;b;", "a b=1;"}) {
    EXPECT_FALSE(parse_mff_facts(arg).has_value()) << '"' << arg << '"';
  }
}

TEST(FtpParameters, OctalMode) {
  EXPECT_EQ(parse_octal_mode("644"), 0644u);
  EXPECT_EQ(parse_octal_mode("0755"), 0755u);
  EXPECT_EQ(parse_octal_mode("7"), 07u);
  EXPECT_EQ(parse_octal_mode("4755"), 04755u);
  for (const char* arg : {"", "8", "648", "07777 ", "00644", "rwx", "-644", "0x1ff"}) {
    EXPECT_FALSE(parse_octal_mode(arg).has_value()) << '"' << arg << '"';
  }
}

TEST(FtpParameters, Rang) {
  auto range = parse_rang_argument("10 20");
  ASSERT_TRUE(range.has_value());
  ASSERT_TRUE(std::holds_alternative<ByteRange>(*range));
  EXPECT_EQ(std::get<ByteRange>(*range).start, 10u);
  EXPECT_EQ(std::get<ByteRange>(*range).end, 20u);
  EXPECT_TRUE(std::holds_alternative<ByteRange>(*parse_rang_argument("0 0")));
  EXPECT_TRUE(std::holds_alternative<RangReset>(*parse_rang_argument("1 0")));
  for (const char* arg : {"", "10", "20 10", "a b", "1  2", "-1 2", "1 2 3", " 1 2"}) {
    EXPECT_FALSE(parse_rang_argument(arg).has_value()) << '"' << arg << '"';
  }
}

}  // namespace
}  // namespace nm::ftp
