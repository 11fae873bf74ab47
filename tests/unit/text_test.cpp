#include "unread/text.hpp"

#include <gtest/gtest.h>

#include "unread/message.hpp"

namespace unread {
namespace {

TEST(Utf8Prefix, CountsCharactersNotBytes) {
    EXPECT_EQ(utf8_prefix("hello", 3), "hel");
    EXPECT_EQ(utf8_prefix("h\xc3\xa9llo", 2), "h\xc3\xa9");
    EXPECT_EQ(utf8_prefix("\xe2\x82\xac\xf0\x9f\x98\x80x", 2), "\xe2\x82\xac\xf0\x9f\x98\x80");
    EXPECT_EQ(utf8_prefix("abc", 10), "abc");
    EXPECT_EQ(utf8_prefix("abc", 0), "");
}

TEST(Utf8Prefix, NeverReadsPastATruncatedSequence) {
    // A lead byte promising 3 bytes with only one following.
    EXPECT_EQ(utf8_prefix("a\xe2\x82", 5), "a\xe2\x82");
    EXPECT_EQ(utf8_prefix("\xff\xfe", 1), "\xff");
    EXPECT_EQ(utf8_prefix("\x80x", 1), "\x80");
}

TEST(HeapBytes, RoundsLikeMalloc) {
    EXPECT_EQ(heap_bytes(0), 0u);
    EXPECT_EQ(heap_bytes(1), 32u);
    EXPECT_EQ(heap_bytes(24), 32u);
    EXPECT_EQ(heap_bytes(25), 48u);
    EXPECT_EQ(heap_bytes(72), 80u);
}

TEST(MessageType, Names) {
    EXPECT_STREQ(to_string(MessageType::chat), "chat");
    EXPECT_STREQ(to_string(MessageType::normal), "normal");
    EXPECT_STREQ(to_string(MessageType::groupchat), "groupchat");
}

}  // namespace
}  // namespace unread
