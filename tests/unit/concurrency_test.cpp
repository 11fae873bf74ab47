// Many threads at once on one index. Built and run under TSan in CI.
#include <gtest/gtest.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "reaper.hpp"
#include "unread/index.hpp"

namespace unread {
namespace {

MessageHeader msg(std::int64_t id, std::uint64_t key) {
    MessageHeader h;
    h.id = id;
    h.key = key;
    h.from = "sender" + std::to_string(id % 7) + "@example.com";
    h.preview = "a preview long enough to live on the heap";
    return h;
}

TEST(IndexConcurrency, WritersAndReadersAgreeAtTheEnd) {
    Index index(16);
    constexpr int kWriters = 4;
    constexpr int kUsers = 50;
    constexpr int kPerWriter = 4000;
    std::atomic<bool> done{false};
    std::vector<std::thread> threads;
    for (int w = 0; w < kWriters; ++w) {
        threads.emplace_back([&, w] {
            for (int i = 0; i < kPerWriter; ++i) {
                const std::string user = "user" + std::to_string(i % kUsers);
                // Every writer inserts its own keys, and removes every third.
                index.insert(user, msg(i, static_cast<std::uint64_t>(w)));
                if (i % 3 == 0) index.erase(user, i, static_cast<std::uint64_t>(w));
            }
        });
    }
    std::vector<std::thread> readers;
    for (int r = 0; r < 3; ++r) {
        readers.emplace_back([&, r] {
            std::size_t seen = 0;
            while (!done.load()) {
                const std::string user = "user" + std::to_string(r);
                seen += index.count(user) + index.page(user, 0, 20).size();
                seen += index.senders(user).size() + index.top(10).size();
                seen += index.total() + index.memory_bytes();
            }
            EXPECT_GT(seen, 0u);
        });
    }
    for (auto& t : threads) t.join();
    done = true;
    for (auto& t : readers) t.join();

    const std::size_t kept_per_writer = kPerWriter - (kPerWriter + 2) / 3;
    EXPECT_EQ(index.total(), kWriters * kept_per_writer);
    std::size_t sum = 0;
    for (int u = 0; u < kUsers; ++u) sum += index.count("user" + std::to_string(u));
    EXPECT_EQ(sum, index.total());
    const auto top = index.top(kUsers);
    std::size_t top_sum = 0;
    for (const auto& uc : top) top_sum += uc.count;
    EXPECT_EQ(top_sum, index.total());
}

TEST(IndexConcurrency, EraseUserRacesWithInsertsOfTheSameUser) {
    Index index(2);
    std::thread inserter([&] {
        for (int i = 0; i < 20000; ++i) index.insert("hot", msg(i, 0));
    });
    std::thread eraser([&] {
        for (int i = 0; i < 2000; ++i) index.erase_user("hot");
    });
    inserter.join();
    eraser.join();
    EXPECT_EQ(index.total(), index.count("hot"));
    EXPECT_EQ(index.users(), index.count("hot") > 0 ? 1u : 0u);
}

// health() walks every shard while writers change them: each shard's
// numbers are read under its lock, so they always add up.
TEST(IndexConcurrency, HealthWhileWriting) {
    Index index(8);
    std::thread writer([&] {
        for (int i = 0; i < 20000; ++i) {
            const std::string user = "u" + std::to_string(i % 40);
            index.insert(user, msg(i, 0));
            if (i % 4 == 0) index.erase_user(user);
        }
    });
    const std::vector<std::size_t> bounds{1, 10, 100};
    for (int r = 0; r < 200; ++r) {
        const Health h = index.health(bounds, 50);
        EXPECT_LE(h.buckets.back(), h.users);
        EXPECT_LE(h.users, 40u);
        EXPECT_EQ(h.users == 0, h.oldest_user.empty());
        EXPECT_LE(h.at_least.size(), h.users - h.buckets[1]);
    }
    writer.join();
    const Health h = index.health(bounds, 1);
    EXPECT_EQ(h.messages, index.total());
    EXPECT_EQ(h.at_least.size(), h.users);
}

TEST(IndexConcurrency, DiffWhileWriting) {
    Index a(8), b(8);
    for (int i = 0; i < 1000; ++i) a.insert("u" + std::to_string(i % 20), msg(i, 0));
    std::thread writer([&] {
        for (int i = 0; i < 5000; ++i) b.insert("u" + std::to_string(i % 20), msg(i, 0));
    });
    std::size_t rounds = 0;
    for (int r = 0; r < 20; ++r) rounds += Index::diff(a, b).size() + Index::diff(b, b).size();
    writer.join();
    EXPECT_LE(rounds, 20u * 20u);
    EXPECT_EQ(Index::diff(b, b).size(), 0u);
}

TEST(IndexConcurrency, SenderViewStaysExactUnderConcurrentWriters) {
    Index index(8);
    constexpr int kWriters = 4;
    constexpr int kUsers = 40;
    constexpr int kPerWriter = 3000;
    std::atomic<bool> done{false};
    std::vector<std::thread> threads;
    for (int w = 0; w < kWriters; ++w) {
        threads.emplace_back([&, w] {
            for (int i = 0; i < kPerWriter; ++i) {
                const std::string user = "user" + std::to_string(i % kUsers);
                index.insert(user, msg(i, static_cast<std::uint64_t>(w)));
                if (i % 3 == 0) index.erase(user, i, static_cast<std::uint64_t>(w));
                if (i % 500 == 499) index.erase_user("user" + std::to_string((i + w) % kUsers));
            }
        });
    }
    std::thread reader([&] {
        std::size_t seen = 0;
        while (!done.load()) {
            seen += index.sender_impact("sender3@example.com", SenderScope::jid, 5).messages;
            seen += index.sender_impact("example.com", SenderScope::domain, 5).users;
            seen += index.sender_users("sender1@example.com", SenderScope::jid).size();
            seen += index.older_than(1500, 3).messages;
        }
        EXPECT_GE(seen, 0u);
    });
    for (auto& t : threads) t.join();
    done = true;
    reader.join();
    // The view equals a recomputation from the queues themselves.
    std::vector<SenderUserCount> expected;
    for (int u = 0; u < kUsers; ++u) {
        const std::string user = "user" + std::to_string(u);
        for (const auto& sc : index.senders(user)) expected.push_back({sc.sender, user, sc.count});
    }
    std::sort(expected.begin(), expected.end(), [](const auto& a, const auto& b) {
        return std::tie(a.sender, a.user) < std::tie(b.sender, b.user);
    });
    EXPECT_EQ(index.sender_view(), expected);
    std::size_t domain_total = 0;
    for (const auto& e : expected) domain_total += e.count;
    EXPECT_EQ(index.sender_impact("example.com", SenderScope::domain, 0).messages, domain_total);
    EXPECT_EQ(domain_total, index.total());
}

// The reaper frees what any thread hands it, on its own thread, and frees
// everything still queued when it stops.
std::atomic<int> reaped{0};
std::mutex reaper_threads_mu;
std::vector<std::thread::id> reaper_threads;
std::vector<std::string> reaper_thread_names;

void note_reaped() {
    std::lock_guard lock(reaper_threads_mu);
    reaper_threads.push_back(std::this_thread::get_id());
    char name[16] = {};
    pthread_getname_np(pthread_self(), name, sizeof name);
    reaper_thread_names.emplace_back(name);
    ++reaped;
}

TEST(IndexConcurrency, ReaperFreesIndexesOffTheCallersThreads) {
    reaped = 0;
    reaper_threads.clear();
    reaper_thread_names.clear();
    constexpr int kGivers = 4;
    constexpr int kPerGiver = 25;
    std::vector<std::thread::id> givers;
    {
        nif::Reaper reaper(note_reaped);
        std::vector<std::thread> threads;
        std::mutex givers_mu;
        for (int g = 0; g < kGivers; ++g) {
            threads.emplace_back([&, g] {
                {
                    std::lock_guard lock(givers_mu);
                    givers.push_back(std::this_thread::get_id());
                }
                for (int i = 0; i < kPerGiver; ++i) {
                    auto index = std::make_unique<Index>(4);
                    for (int m = 0; m < 50; ++m)
                        index->insert("user" + std::to_string(m % 5),
                                      msg(m, static_cast<std::uint64_t>(g)));
                    reaper.give(std::move(index));
                }
            });
        }
        for (auto& t : threads) t.join();
        reaper.stop();  // joins: everything given is freed by now
        EXPECT_EQ(reaped.load(), kGivers * kPerGiver);
        // Stopped, it frees on the caller's thread instead of losing it.
        reaper.give(std::make_unique<Index>(1));
        EXPECT_EQ(reaped.load(), kGivers * kPerGiver + 1);
    }
    std::lock_guard lock(reaper_threads_mu);
    ASSERT_EQ(reaper_threads.size(), static_cast<std::size_t>(kGivers * kPerGiver + 1));
    for (std::size_t i = 0; i + 1 < reaper_threads.size(); ++i) {
        EXPECT_NE(reaper_threads[i], std::this_thread::get_id());
        EXPECT_EQ(std::count(givers.begin(), givers.end(), reaper_threads[i]), 0);
        EXPECT_EQ(reaper_thread_names[i], "unread_reaper");
    }
    EXPECT_EQ(reaper_threads.back(), std::this_thread::get_id());
}

}  // namespace
}  // namespace unread
