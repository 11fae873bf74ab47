// The sender view (Index::sender_impact, sender_users, sender_view) and the
// retention preview (older_than) against a plain model, after random
// inserts, erases, replace_user, erase_user and clear.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "unread/index.hpp"

namespace unread {
namespace {

using Key = std::pair<std::int64_t, std::uint64_t>;
// user -> (id, key) -> sender
using Model = std::map<std::string, std::map<Key, std::string>>;

std::string domain_of(const std::string& sender) {
    const auto at = sender.find('@');
    return at == std::string::npos ? sender : sender.substr(at + 1);
}

std::vector<SenderUserCount> recompute(const Model& model) {
    std::map<std::pair<std::string, std::string>, std::size_t> pairs;
    for (const auto& [user, msgs] : model)
        for (const auto& [k, sender] : msgs) ++pairs[{sender, user}];
    std::vector<SenderUserCount> out;
    for (const auto& [su, n] : pairs) out.push_back({su.first, su.second, n});
    return out;
}

void expect_view(const Index& index, const Model& model, const std::vector<std::string>& senders) {
    ASSERT_EQ(index.sender_view(), recompute(model));
    std::set<std::string> domains;
    for (const auto& s : senders) domains.insert(domain_of(s));
    const auto check = [&](const std::string& name, SenderScope scope) {
        std::map<std::string, std::size_t> per_user;
        std::set<std::string> matched;
        for (const auto& [user, msgs] : model)
            for (const auto& [k, sender] : msgs)
                if (scope == SenderScope::jid ? sender == name : domain_of(sender) == name) {
                    ++per_user[user];
                    matched.insert(sender);
                }
        std::size_t messages = 0;
        std::vector<UserCount> expected;
        for (const auto& [u, n] : per_user) {
            messages += n;
            expected.push_back({u, n});
        }
        const auto users = index.sender_users(name, scope);
        ASSERT_EQ(users.size(), expected.size()) << name;
        for (std::size_t i = 0; i < users.size(); ++i) {
            ASSERT_EQ(users[i].user, expected[i].user);
            ASSERT_EQ(users[i].count, expected[i].count);
        }
        std::sort(expected.begin(), expected.end(), [](const UserCount& a, const UserCount& b) {
            return a.count > b.count || (a.count == b.count && a.user < b.user);
        });
        const SenderImpact impact = index.sender_impact(name, scope, 3);
        ASSERT_EQ(impact.messages, messages) << name;
        ASSERT_EQ(impact.users, per_user.size()) << name;
        ASSERT_EQ(impact.senders, matched.size()) << name;
        ASSERT_EQ(impact.top.size(), std::min<std::size_t>(3, expected.size()));
        for (std::size_t i = 0; i < impact.top.size(); ++i) {
            ASSERT_EQ(impact.top[i].user, expected[i].user);
            ASSERT_EQ(impact.top[i].count, expected[i].count);
        }
    };
    for (const auto& s : senders) check(s, SenderScope::jid);
    for (const auto& d : domains) check(d, SenderScope::domain);
    check("nobody@nowhere", SenderScope::jid);
    check("nowhere", SenderScope::domain);
}

void expect_retention(const Index& index, const Model& model, std::int64_t cutoff) {
    std::size_t messages = 0, users = 0;
    std::map<std::string, std::size_t> senders;
    std::vector<UserCount> per_user;
    for (const auto& [user, msgs] : model) {
        std::size_t n = 0;
        for (const auto& [k, sender] : msgs)
            if (k.first < cutoff) {
                ++n;
                ++senders[sender];
            }
        messages += n;
        if (n > 0) {
            ++users;
            per_user.push_back({user, n});
        }
    }
    std::vector<SenderCount> top;
    for (const auto& [s, n] : senders) top.push_back({s, n});
    std::sort(top.begin(), top.end(), [](const SenderCount& a, const SenderCount& b) {
        return a.count > b.count || (a.count == b.count && a.sender < b.sender);
    });
    top.resize(std::min<std::size_t>(top.size(), 2));
    const RetentionImpact r = index.older_than(cutoff, 2);
    ASSERT_EQ(r.messages, messages);
    ASSERT_EQ(r.users, users);
    ASSERT_EQ(r.top_senders.size(), top.size());
    for (std::size_t i = 0; i < top.size(); ++i) {
        ASSERT_EQ(r.top_senders[i].sender, top[i].sender);
        ASSERT_EQ(r.top_senders[i].count, top[i].count);
    }
    const auto listed = index.users_older_than(cutoff);
    ASSERT_EQ(listed.size(), per_user.size());
    for (std::size_t i = 0; i < listed.size(); ++i) {
        ASSERT_EQ(listed[i].user, per_user[i].user);
        ASSERT_EQ(listed[i].count, per_user[i].count);
    }
}

}  // namespace

void PrintTo(const SenderUserCount& c, std::ostream* os) {
    *os << c.sender << "->" << c.user << ":" << c.count;
}

namespace {

MessageHeader header(std::int64_t id, std::uint64_t key, const std::string& from) {
    MessageHeader h;
    h.id = id;
    h.key = key;
    h.from = from;
    h.preview = "p";
    return h;
}

TEST(SenderView, RandomOperationsMatchRecomputation) {
    std::mt19937_64 rng(20261201);
    const std::vector<std::string> names{"alice", "bob", "carol", "dave", "eve", "frank", "gina"};
    // Long names too: they leave the string's inline buffer.
    const std::vector<std::string> senders{"spam@bad.example", "spam2@bad.example", "bad.example",
                                           "bob@x",
                                           "a-rather-long-sender-name@long-domain.example.org"};
    Index index(3);
    Model model;
    for (int step = 0; step < 20000; ++step) {
        const std::string& user = names[rng() % names.size()];
        const std::int64_t id = static_cast<std::int64_t>(rng() % 60);
        const std::uint64_t key = rng() % 2;
        const std::string& sender = senders[rng() % senders.size()];
        switch (rng() % 20) {
            case 0:
                ASSERT_EQ(index.erase_user(user), model[user].size());
                model.erase(user);
                break;
            case 1:
                if (rng() % 20 == 0) {
                    index.clear();
                    model.clear();
                }
                break;
            case 2:
            case 3: {
                // replace_user with a random subset of the current messages
                // plus some new ones (possibly with other senders).
                std::vector<MessageHeader> next;
                std::map<Key, std::string> kept;
                for (const auto& [k, s] : model[user])
                    if (rng() % 2) {
                        kept.emplace(k, s);
                        next.push_back(header(k.first, k.second, s));
                    }
                for (int i = 0; i < 3; ++i) {
                    const Key k{static_cast<std::int64_t>(rng() % 60), rng() % 2};
                    // A key stands for the whole record (see MessageHeader):
                    // an (id, key) the user holds has its sender already.
                    if (kept.contains(k) || model[user].contains(k)) continue;
                    const std::string& s = senders[rng() % senders.size()];
                    kept.emplace(k, s);
                    next.push_back(header(k.first, k.second, s));
                }
                index.replace_user(user, next);
                if (kept.empty())
                    model.erase(user);
                else
                    model[user] = kept;
                break;
            }
            case 4:
            case 5:
            case 6:
            case 7: {
                const bool erased = index.erase(user, id, key);
                const auto it = model.find(user);
                const bool had = it != model.end() && it->second.erase({id, key}) == 1;
                if (it != model.end() && it->second.empty()) model.erase(it);
                ASSERT_EQ(erased, had);
                break;
            }
            case 8: {
                // insert_all with runs of one sender, as a rebuild reads them.
                std::vector<MessageHeader> batch;
                for (int i = 0; i < 4; ++i)
                    batch.push_back(header(static_cast<std::int64_t>(rng() % 60), rng() % 2,
                                           i < 2 ? sender : senders[rng() % senders.size()]));
                std::vector<MessageView> views;
                for (const auto& h : batch) views.push_back(view_of(h));
                std::size_t fresh = 0;
                for (const auto& h : batch)
                    fresh += model[user].try_emplace({h.id, h.key}, h.from).second;
                if (model[user].empty()) model.erase(user);
                ASSERT_EQ(index.insert_all(user, views), fresh);
                break;
            }
            default: {
                auto& m = model[user];
                const bool fresh = m.try_emplace({id, key}, sender).second;
                ASSERT_EQ(index.insert(user, header(id, key, sender)), fresh);
            }
        }
        if (model.contains(user) && model[user].empty()) model.erase(user);
        if (step % 97 == 0) {
            expect_view(index, model, senders);
            expect_retention(index, model, static_cast<std::int64_t>(rng() % 62));
        }
    }
    expect_view(index, model, senders);
    expect_retention(index, model, 30);
    // Emptied, the view holds nothing and its memory is given back.
    const std::size_t empty_bytes = Index(3).memory_bytes();
    for (const auto& n : names) index.erase_user(n);
    EXPECT_TRUE(index.sender_view().empty());
    EXPECT_EQ(index.sender_impact("spam@bad.example", SenderScope::jid, 10).messages, 0u);
    EXPECT_GE(index.memory_bytes(), empty_bytes);
}

TEST(SenderView, MemoryCountsComeBackToZero) {
    Index index(2);
    const std::size_t empty = index.memory_bytes();
    for (int u = 0; u < 50; ++u)
        for (int m = 0; m < 5; ++m)
            index.insert(
                "user" + std::to_string(u),
                header(m, 0, "sender" + std::to_string(m % 3) + "@d" + std::to_string(u % 4)));
    EXPECT_GT(index.memory_bytes(), empty);
    for (int u = 0; u < 50; ++u)
        for (int m = 0; m < 5; ++m) index.erase("user" + std::to_string(u), m, 0);
    // Bucket arrays stay allocated (unordered maps do not shrink); nodes go.
    const auto view = index.sender_view();
    EXPECT_TRUE(view.empty());
    EXPECT_EQ(index.total(), 0u);
}

TEST(SenderView, DomainQueryAddsUpSendersOfOneUser) {
    Index index;
    index.insert("alice", header(1, 0, "a@spam.example"));
    index.insert("alice", header(2, 0, "b@spam.example"));
    index.insert("alice", header(3, 0, "spam.example"));
    index.insert("alice", header(4, 0, "friend@ok.example"));
    index.insert("bob", header(5, 0, "a@spam.example"));
    const SenderImpact d = index.sender_impact("spam.example", SenderScope::domain, 10);
    EXPECT_EQ(d.messages, 4u);
    EXPECT_EQ(d.users, 2u);
    EXPECT_EQ(d.senders, 3u);
    ASSERT_EQ(d.top.size(), 2u);
    EXPECT_EQ(d.top[0].user, "alice");
    EXPECT_EQ(d.top[0].count, 3u);
    // The server's own JID is a sender of its domain, and a JID query of it
    // matches only it.
    EXPECT_EQ(index.sender_impact("spam.example", SenderScope::jid, 10).messages, 1u);
    EXPECT_EQ(index.sender_impact("a@spam.example", SenderScope::jid, 0).users, 2u);
    EXPECT_TRUE(index.sender_impact("a@spam.example", SenderScope::jid, 0).top.empty());
}

}  // namespace
}  // namespace unread
