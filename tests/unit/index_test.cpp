#include "unread/index.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace unread {
namespace {

MessageHeader msg(std::int64_t id, std::string from, std::string preview = "hi",
                  std::uint64_t key = 1) {
    MessageHeader h;
    h.id = id;
    h.key = key;
    h.from = std::move(from);
    h.type = MessageType::chat;
    h.preview = std::move(preview);
    return h;
}

TEST(Index, EmptyUserHasNothing) {
    Index index;
    EXPECT_EQ(index.count("alice"), 0u);
    EXPECT_FALSE(index.summary("alice").has_value());
    EXPECT_TRUE(index.senders("alice").empty());
    EXPECT_TRUE(index.page("alice", 0, 10).empty());
    EXPECT_EQ(index.total(), 0u);
    EXPECT_EQ(index.users(), 0u);
}

TEST(Index, CountsAndSummaryFollowInsertsAndErases) {
    Index index;
    EXPECT_TRUE(index.insert("alice", msg(30, "bob@x")));
    EXPECT_TRUE(index.insert("alice", msg(10, "carol@x")));
    EXPECT_TRUE(index.insert("alice", msg(20, "bob@x")));
    EXPECT_EQ(index.count("alice"), 3u);
    const auto s = index.summary("alice");
    ASSERT_TRUE(s);
    EXPECT_EQ(s->oldest, 10);
    EXPECT_EQ(s->newest, 30);
    EXPECT_TRUE(index.erase("alice", 10, 1));
    EXPECT_FALSE(index.erase("alice", 10, 1));
    EXPECT_EQ(index.count("alice"), 2u);
    EXPECT_EQ(index.summary("alice")->oldest, 20);
}

TEST(Index, IdenticalRecordIsStoredOnceLikeABag) {
    Index index;
    EXPECT_TRUE(index.insert("alice", msg(5, "bob@x", "a", 7)));
    EXPECT_FALSE(index.insert("alice", msg(5, "bob@x", "a", 7)));
    // Same microsecond, different record: a second message.
    EXPECT_TRUE(index.insert("alice", msg(5, "bob@x", "b", 8)));
    EXPECT_EQ(index.count("alice"), 2u);
    EXPECT_FALSE(index.erase("alice", 5, 9));
    EXPECT_EQ(index.count("alice"), 2u);
}

TEST(Index, SendersLargestFirstThenByName) {
    Index index;
    index.insert("alice", msg(1, "zed@x"));
    index.insert("alice", msg(2, "bob@x"));
    index.insert("alice", msg(3, "bob@x"));
    index.insert("alice", msg(4, "amy@x"));
    const auto s = index.senders("alice");
    ASSERT_EQ(s.size(), 3u);
    EXPECT_EQ(s[0].sender, "bob@x");
    EXPECT_EQ(s[0].count, 2u);
    EXPECT_EQ(s[1].sender, "amy@x");
    EXPECT_EQ(s[2].sender, "zed@x");
    index.erase("alice", 2, 1);
    index.erase("alice", 3, 1);
    for (const auto& sc : index.senders("alice")) EXPECT_NE(sc.sender, "bob@x");
}

TEST(Index, PagesAreNewestFirstWithOffsetAndSenderFilter) {
    Index index;
    for (int i = 1; i <= 10; ++i)
        index.insert("alice", msg(i, i % 2 ? "odd@x" : "even@x", "m" + std::to_string(i)));
    auto p = index.page("alice", 0, 3);
    ASSERT_EQ(p.size(), 3u);
    EXPECT_EQ(p[0].id, 10);
    EXPECT_EQ(p[2].id, 8);
    p = index.page("alice", 8, 5);
    ASSERT_EQ(p.size(), 2u);
    EXPECT_EQ(p[0].id, 2);
    EXPECT_EQ(p[1].id, 1);
    EXPECT_EQ(p[1].preview, "m1");
    p = index.page("alice", 1, 10, "odd@x");
    ASSERT_EQ(p.size(), 4u);
    EXPECT_EQ(p[0].id, 7);
    for (const auto& m : p) EXPECT_EQ(m.from, "odd@x");
}

TEST(Index, KeepsSubjectAndPreviewApart) {
    Index index;
    MessageHeader h = msg(1, "bob@x", "body text");
    h.subject = "Subject";
    h.type = MessageType::headline;
    index.insert("alice", h);
    const auto p = index.page("alice", 0, 1);
    ASSERT_EQ(p.size(), 1u);
    EXPECT_EQ(p[0].subject, "Subject");
    EXPECT_EQ(p[0].preview, "body text");
    EXPECT_EQ(p[0].type, MessageType::headline);
}

TEST(Index, EraseUserAndClear) {
    Index index;
    index.insert("alice", msg(1, "bob@x"));
    index.insert("alice", msg(2, "bob@x"));
    index.insert("carol", msg(3, "bob@x"));
    EXPECT_EQ(index.erase_user("alice"), 2u);
    EXPECT_EQ(index.erase_user("alice"), 0u);
    EXPECT_EQ(index.total(), 1u);
    EXPECT_EQ(index.users(), 1u);
    index.clear();
    EXPECT_EQ(index.total(), 0u);
    EXPECT_EQ(index.count("carol"), 0u);
    EXPECT_TRUE(index.top(5).empty());
}

TEST(Index, TopRanksAcrossShards) {
    Index index(8);
    for (int u = 0; u < 100; ++u)
        for (int m = 0; m <= u % 17; ++m) index.insert("user" + std::to_string(u), msg(m, "bob@x"));
    const auto top = index.top(3);
    ASSERT_EQ(top.size(), 3u);
    // u % 17 == 16 for u = 16, 33, 50, 67, 84: count 17, names sorted.
    EXPECT_EQ(top[0].count, 17u);
    EXPECT_EQ(top[0].user, "user16");
    EXPECT_EQ(top[1].user, "user33");
    EXPECT_EQ(top[2].user, "user50");
    EXPECT_EQ(index.top(1000).size(), 100u);
    EXPECT_TRUE(index.top(0).empty());
}

TEST(Index, TopFollowsCountChanges) {
    Index index;
    index.insert("a", msg(1, "x@y"));
    index.insert("b", msg(1, "x@y"));
    index.insert("b", msg(2, "x@y"));
    EXPECT_EQ(index.top(1)[0].user, "b");
    index.erase("b", 1, 1);
    index.erase("b", 2, 1);
    const auto top = index.top(5);
    ASSERT_EQ(top.size(), 1u);
    EXPECT_EQ(top[0].user, "a");
}

TEST(Index, MemoryGrowsAndReturnsToBaseline) {
    Index index;
    const std::size_t empty = index.memory_bytes();
    for (int i = 0; i < 1000; ++i) index.insert("u" + std::to_string(i % 10), msg(i, "s@x"));
    EXPECT_GT(index.memory_bytes(), empty + 1000 * 64);
    for (int i = 0; i < 1000; ++i) index.erase("u" + std::to_string(i % 10), i, 1);
    // Only the hash tables' bucket arrays may stay grown.
    EXPECT_LE(index.memory_bytes(), empty + 64 * 8 * 16);
}

TEST(Index, ReplaceUserReportsWhatDiffered) {
    Index index;
    index.insert("alice", msg(1, "bob@x"));
    index.insert("alice", msg(2, "bob@x"));
    std::vector<MessageHeader> store{msg(2, "bob@x"), msg(3, "bob@x"), msg(4, "bob@x")};
    const UserDiff d = index.replace_user("alice", store);
    EXPECT_EQ(d.count_before, 2u);
    EXPECT_EQ(d.count_after, 3u);
    EXPECT_EQ(d.added, 2u);
    EXPECT_EQ(d.removed, 1u);
    EXPECT_EQ(index.page("alice", 0, 10).back().id, 2);
    EXPECT_EQ(index.replace_user("alice", {}).removed, 3u);
    EXPECT_EQ(index.users(), 0u);
}

TEST(Index, DiffListsOnlyUsersThatDiffer) {
    Index a, b;
    a.insert("same", msg(1, "x@y"));
    b.insert("same", msg(1, "x@y"));
    a.insert("gone", msg(1, "x@y"));
    b.insert("new", msg(1, "x@y"));
    a.insert("changed", msg(1, "x@y"));
    b.insert("changed", msg(1, "x@y", "hi", 2));
    auto d = Index::diff(a, b);
    std::sort(d.begin(), d.end(), [](auto& l, auto& r) { return l.user < r.user; });
    ASSERT_EQ(d.size(), 3u);
    EXPECT_EQ(d[0].user, "changed");
    EXPECT_EQ(d[0].added, 1u);
    EXPECT_EQ(d[0].removed, 1u);
    EXPECT_EQ(d[1].user, "gone");
    EXPECT_EQ(d[1].count_after, 0u);
    EXPECT_EQ(d[2].user, "new");
    EXPECT_EQ(d[2].count_before, 0u);
    EXPECT_TRUE(Index::diff(a, a).empty());
    Index other(3);
    EXPECT_THROW(Index::diff(a, other), std::invalid_argument);
}

TEST(Index, DiffCountsMessagesOnBothSidesOfALongQueue) {
    Index a, b;
    for (int i = 0; i < 100; ++i) a.insert("u", msg(i, "x@y"));
    for (int i = 50; i < 160; ++i) b.insert("u", msg(i, "x@y"));
    const auto d = Index::diff(a, b);
    ASSERT_EQ(d.size(), 1u);
    EXPECT_EQ(d[0].count_before, 100u);
    EXPECT_EQ(d[0].count_after, 110u);
    EXPECT_EQ(d[0].removed, 50u);
    EXPECT_EQ(d[0].added, 60u);
}

TEST(Index, InsertAllAddsAUsersRunAtOnce) {
    Index index;
    const std::string from = "bob@x";
    const std::vector<MessageView> run{{3, 1, from, MessageType::chat, "", "c"},
                                       {1, 1, from, MessageType::chat, "s", "a"},
                                       {3, 1, from, MessageType::chat, "", "c"},
                                       {3, 2, "carol@x", MessageType::normal, "", "d"}};
    EXPECT_EQ(index.insert_all("alice", run), 3u);
    EXPECT_EQ(index.insert_all("alice", run), 0u);
    EXPECT_EQ(index.insert_all("bob", {}), 0u);
    EXPECT_EQ(index.count("alice"), 3u);
    EXPECT_EQ(index.users(), 1u);
    ASSERT_EQ(index.top(1).size(), 1u);
    EXPECT_EQ(index.top(1)[0].count, 3u);
    const auto page = index.page("alice", 0, 10);
    ASSERT_EQ(page.size(), 3u);
    EXPECT_EQ(page[0].from, "carol@x");
    EXPECT_EQ(page[2].subject, "s");
    EXPECT_EQ(page[2].preview, "a");
    EXPECT_EQ(index.senders("alice")[0].count, 2u);
}

TEST(Index, LongTextIsCappedOnACharacterBoundary) {
    Index index;
    std::string body;
    for (int i = 0; i < 40000; ++i) body += "\xc3\xa9";  // é, 2 bytes
    index.insert("alice", msg(1, "bob@x", body));
    const auto p = index.page("alice", 0, 1);
    ASSERT_EQ(p.size(), 1u);
    EXPECT_LE(p[0].preview.size(), 65535u);
    EXPECT_EQ(p[0].preview.size() % 2, 0u);
}

TEST(IndexHealth, EmptyIndexHasNoOldestAndEmptyBuckets) {
    Index index;
    const std::vector<std::size_t> bounds{1, 5};
    const Health h = index.health(bounds, 1);
    EXPECT_EQ(h.users, 0u);
    EXPECT_EQ(h.messages, 0u);
    EXPECT_TRUE(h.oldest_user.empty());
    EXPECT_EQ(h.buckets, (std::vector<std::uint64_t>{0, 0}));
    EXPECT_TRUE(h.at_least.empty());
}

TEST(IndexHealth, CumulativeBucketsOldestAndUsersAtThreshold) {
    Index index;
    const std::vector<std::pair<std::string, int>> queues{
        {"a", 1}, {"b", 3}, {"c", 5}, {"d", 6}, {"e", 12}};
    std::int64_t id = 1000;
    for (const auto& [user, n] : queues)
        for (int i = 0; i < n; ++i) index.insert(user, msg(id--, "x@y"));
    // Queue lengths 1, 3, 5, 6 and 12 over bounds 1, 5, 10: le=1 holds
    // one user, le=5 three, le=10 four; the fifth is only in `users`. The
    // last message inserted has the smallest id: e's.
    const std::vector<std::size_t> bounds{1, 5, 10};
    const Health h = index.health(bounds, 5);
    EXPECT_EQ(h.users, 5u);
    EXPECT_EQ(h.messages, 27u);
    EXPECT_EQ(h.buckets, (std::vector<std::uint64_t>{1, 3, 4}));
    EXPECT_EQ(h.oldest_user, "e");
    EXPECT_EQ(h.oldest_id, id + 1);
    ASSERT_EQ(h.at_least.size(), 3u);
    EXPECT_EQ(h.at_least[0].user, "e");
    EXPECT_EQ(h.at_least[0].count, 12u);
    EXPECT_EQ(h.at_least[1].user, "d");
    EXPECT_EQ(h.at_least[2].user, "c");
    EXPECT_EQ(h.at_least[2].count, 5u);
}

TEST(IndexHealth, ThresholdZeroListsNobodyAndTiesGoByName) {
    Index index;
    index.insert("zed", msg(7, "x@y"));
    index.insert("amy", msg(7, "x@y"));
    index.insert("bob", msg(9, "x@y"));
    const std::vector<std::size_t> bounds{};
    Health h = index.health(bounds, 0);
    EXPECT_TRUE(h.at_least.empty());
    EXPECT_TRUE(h.buckets.empty());
    // amy and zed share the oldest id: the name decides, whatever the shard.
    EXPECT_EQ(h.oldest_user, "amy");
    EXPECT_EQ(h.oldest_id, 7);
    h = index.health(bounds, 1);
    ASSERT_EQ(h.at_least.size(), 3u);
    EXPECT_EQ(h.at_least[0].user, "amy");
    EXPECT_EQ(h.at_least[1].user, "bob");
    EXPECT_EQ(h.at_least[2].user, "zed");
}

TEST(IndexHealth, FollowsErasesAndDroppedUsers) {
    Index index;
    for (int i = 0; i < 4; ++i) index.insert("alice", msg(100 + i, "x@y"));
    index.insert("bob", msg(50, "x@y"));
    const std::vector<std::size_t> bounds{2, 4};
    EXPECT_EQ(index.health(bounds, 4).at_least.size(), 1u);
    index.erase_user("bob");
    EXPECT_TRUE(index.erase("alice", 100, 1));
    const Health h = index.health(bounds, 4);
    EXPECT_EQ(h.oldest_user, "alice");
    EXPECT_EQ(h.oldest_id, 101);
    EXPECT_EQ(h.buckets, (std::vector<std::uint64_t>{0, 1}));
    EXPECT_TRUE(h.at_least.empty());
}

TEST(IndexHealth, BoundsMustAscendStrictly) {
    Index index;
    const std::vector<std::size_t> repeated{1, 1};
    const std::vector<std::size_t> falling{5, 1};
    EXPECT_THROW(index.health(repeated, 1), std::invalid_argument);
    EXPECT_THROW(index.health(falling, 1), std::invalid_argument);
}

// The histogram against counts computed user by user, on many users spread
// over every shard.
TEST(IndexHealth, MatchesPerUserCountsOnManyUsers) {
    Index index;
    std::vector<std::size_t> counts;
    for (int u = 0; u < 500; ++u) {
        const int n = 1 + (u * 37) % 23;
        for (int i = 0; i < n; ++i)
            index.insert("user" + std::to_string(u), msg(1000000 + u * 100 + i, "x@y"));
        counts.push_back(static_cast<std::size_t>(n));
    }
    const std::vector<std::size_t> bounds{1, 5, 10, 20};
    const Health h = index.health(bounds, 20);
    for (std::size_t i = 0; i < bounds.size(); ++i) {
        const auto want = std::count_if(counts.begin(), counts.end(),
                                        [&](std::size_t n) { return n <= bounds[i]; });
        EXPECT_EQ(h.buckets[i], static_cast<std::uint64_t>(want)) << "le=" << bounds[i];
    }
    const auto over =
        std::count_if(counts.begin(), counts.end(), [](std::size_t n) { return n >= 20; });
    EXPECT_EQ(h.at_least.size(), static_cast<std::size_t>(over));
    EXPECT_EQ(h.oldest_user, "user0");
    EXPECT_EQ(h.oldest_id, 1000000);
}

}  // namespace
}  // namespace unread
