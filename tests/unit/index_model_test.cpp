// Random operations against a plain model: the index must answer exactly what
// the model does after every step.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <tuple>

#include "unread/index.hpp"

namespace unread {
namespace {

struct Model {
    // user -> (id, key) -> sender
    std::map<std::string, std::map<std::pair<std::int64_t, std::uint64_t>, std::string>> users;

    std::size_t total() const {
        std::size_t n = 0;
        for (const auto& [u, m] : users) n += m.size();
        return n;
    }
};

void expect_same(const Index& index, const Model& model, const std::vector<std::string>& names) {
    ASSERT_EQ(index.total(), model.total());
    ASSERT_EQ(index.users(), model.users.size());
    for (const auto& name : names) {
        const auto it = model.users.find(name);
        const std::size_t n = it == model.users.end() ? 0 : it->second.size();
        ASSERT_EQ(index.count(name), n) << name;
        if (n == 0) continue;
        std::map<std::string, std::size_t> per_sender;
        for (const auto& [k, s] : it->second) ++per_sender[s];
        const auto senders = index.senders(name);
        ASSERT_EQ(senders.size(), per_sender.size());
        for (const auto& sc : senders) ASSERT_EQ(sc.count, per_sender[sc.sender]);
        const auto page = index.page(name, 0, 1000);
        ASSERT_EQ(page.size(), n);
        auto expected = it->second.rbegin();
        for (const auto& m : page) {
            ASSERT_EQ(std::make_pair(m.id, m.key), expected->first);
            ASSERT_EQ(m.from, expected->second);
            ++expected;
        }
    }
    std::vector<std::pair<std::size_t, std::string>> ranking;
    for (const auto& [u, m] : model.users) ranking.emplace_back(m.size(), u);
    std::sort(ranking.begin(), ranking.end(), [](auto& a, auto& b) {
        return a.first > b.first || (a.first == b.first && a.second < b.second);
    });
    const auto top = index.top(5);
    ASSERT_EQ(top.size(), std::min<std::size_t>(5, ranking.size()));
    for (std::size_t i = 0; i < top.size(); ++i) {
        ASSERT_EQ(top[i].user, ranking[i].second);
        ASSERT_EQ(top[i].count, ranking[i].first);
    }
}

TEST(IndexModel, RandomOperationsMatchModel) {
    std::mt19937_64 rng(20261123);
    const std::vector<std::string> names{"alice", "bob", "carol", "dave", "eve", "frank"};
    const std::vector<std::string> senders{"s1@x", "s2@x", "s3@x"};
    Index index(4);
    Model model;
    for (int step = 0; step < 5000; ++step) {
        const std::string& user = names[rng() % names.size()];
        const std::int64_t id = static_cast<std::int64_t>(rng() % 40);
        const std::uint64_t key = rng() % 2;
        switch (rng() % 10) {
            case 0: {
                index.erase_user(user);
                model.users.erase(user);
                break;
            }
            case 1:
            case 2:
            case 3: {
                const bool erased = index.erase(user, id, key);
                const auto it = model.users.find(user);
                const bool had = it != model.users.end() && it->second.erase({id, key}) == 1;
                if (it != model.users.end() && it->second.empty()) model.users.erase(it);
                ASSERT_EQ(erased, had);
                break;
            }
            default: {
                MessageHeader h;
                h.id = id;
                h.key = key;
                h.from = senders[rng() % senders.size()];
                auto& m = model.users[user];
                const bool fresh = m.find({id, key}) == m.end();
                // The index keeps the first sender written for an (id, key),
                // like the model's try_emplace.
                m.try_emplace({id, key}, h.from);
                ASSERT_EQ(index.insert(user, std::move(h)), fresh);
            }
        }
        if (step % 50 == 0) expect_same(index, model, names);
    }
    expect_same(index, model, names);
}

}  // namespace
}  // namespace unread
