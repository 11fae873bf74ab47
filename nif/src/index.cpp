#include "unread/index.hpp"

#include <algorithm>
#include <functional>
#include <mutex>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "shard.hpp"

namespace unread {

Index::Index(std::size_t shard_count) {
    if (shard_count == 0) throw std::invalid_argument("unread::Index needs at least one shard");
    shards_.reserve(shard_count);
    for (std::size_t i = 0; i < shard_count; ++i) shards_.push_back(std::make_unique<Shard>());
}

Index::~Index() = default;

Shard& Index::shard_for(std::string_view user) const noexcept {
    return *shards_[StringHash{}(user) % shards_.size()];
}

bool Index::insert(std::string_view user, const MessageHeader& message) {
    return insert(user, view_of(message));
}

bool Index::insert(std::string_view user, const MessageView& message) {
    Shard& shard = shard_for(user);
    return shard.update(user, [&](UserQueue& queue, const std::string& key) {
        return queue.insert(message, shard.view, key);
    });
}

std::size_t Index::insert_all(std::string_view user, std::span<const MessageView> messages) {
    if (messages.empty()) return 0;
    Shard& shard = shard_for(user);
    return shard.update(user, [&](UserQueue& queue, const std::string& key) {
        queue.reserve_more(messages.size());
        std::size_t added = 0;
        for (const MessageView& m : messages) added += queue.insert(m, shard.view, key) ? 1 : 0;
        return added;
    });
}

bool Index::erase(std::string_view user, std::int64_t id, std::uint64_t key) {
    Shard& shard = shard_for(user);
    {
        // Most deletes the store reports are for users we hold; looking first
        // under a shared lock spares a writer lock for the rest.
        std::shared_lock lock(shard.mu);
        const auto it = shard.users.find(user);
        if (it == shard.users.end() || !it->second.contains(id, key)) return false;
    }
    return shard.update(user, [&](UserQueue& queue, const std::string&) {
        return queue.erase(id, key, shard.view);
    });
}

std::size_t Index::erase_user(std::string_view user) {
    Shard& shard = shard_for(user);
    std::unique_lock lock(shard.mu);
    const auto it = shard.users.find(user);
    if (it == shard.users.end()) return 0;
    const std::size_t count = it->second.size();
    shard.erase_user(it);
    return count;
}

void Index::clear() {
    for (auto& shard : shards_) {
        std::unique_lock lock(shard->mu);
        shard->ranking.clear();
        shard->users.clear();
        shard->view.clear();
        shard->messages = 0;
        shard->bytes = 0;
    }
}

UserDiff Index::replace_user(std::string_view user, std::vector<MessageHeader> messages) {
    Shard& shard = shard_for(user);
    return shard.update(user, [&](UserQueue& queue, const std::string& user_key) {
        UserDiff d{std::string(user), queue.size(), 0, 0, 0};
        std::set<std::pair<std::int64_t, std::uint64_t>> wanted;
        for (const MessageHeader& m : messages) wanted.emplace(m.id, m.key);
        std::vector<std::pair<std::int64_t, std::uint64_t>> stale;
        queue.for_each_key([&](std::int64_t id, std::uint64_t key) {
            if (wanted.count({id, key}) == 0) stale.emplace_back(id, key);
        });
        for (const auto& [id, key] : stale) d.removed += queue.erase(id, key, shard.view) ? 1 : 0;
        for (const MessageHeader& m : messages)
            d.added += queue.insert(view_of(m), shard.view, user_key) ? 1 : 0;
        d.count_after = queue.size();
        return d;
    });
}

std::size_t Index::count(std::string_view user) const {
    const Shard& shard = shard_for(user);
    std::shared_lock lock(shard.mu);
    const auto it = shard.users.find(user);
    return it == shard.users.end() ? 0 : it->second.size();
}

std::optional<UserSummary> Index::summary(std::string_view user) const {
    const Shard& shard = shard_for(user);
    std::shared_lock lock(shard.mu);
    const auto it = shard.users.find(user);
    if (it == shard.users.end()) return std::nullopt;
    return it->second.summary();
}

std::vector<SenderCount> Index::senders(std::string_view user) const {
    const Shard& shard = shard_for(user);
    std::shared_lock lock(shard.mu);
    const auto it = shard.users.find(user);
    if (it == shard.users.end()) return {};
    return it->second.senders();
}

std::vector<MessageHeader> Index::page(std::string_view user, std::size_t offset, std::size_t limit,
                                       std::string_view from) const {
    std::vector<MessageHeader> out;
    const Shard& shard = shard_for(user);
    std::shared_lock lock(shard.mu);
    const auto it = shard.users.find(user);
    if (it != shard.users.end()) it->second.page(offset, limit, from, out);
    return out;
}

std::vector<UserCount> Index::top(std::size_t limit) const {
    std::vector<UserCount> out;
    if (limit == 0) return out;
    // Each shard keeps its users ranked, so the global top N is among the
    // shards' own top N: merge at most shards x N candidates, never all users.
    for (const auto& shard : shards_) {
        std::shared_lock lock(shard->mu);
        std::size_t taken = 0;
        for (auto it = shard->ranking.rbegin(); it != shard->ranking.rend() && taken < limit;
             ++it, ++taken) {
            out.push_back({std::string(it->user), it->count});
        }
    }
    const auto by_rank = [](const UserCount& a, const UserCount& b) {
        return a.count > b.count || (a.count == b.count && a.user < b.user);
    };
    const std::size_t keep = std::min(limit, out.size());
    std::partial_sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(keep), out.end(),
                      by_rank);
    out.resize(keep);
    return out;
}

Health Index::health(std::span<const std::size_t> bounds, std::size_t threshold) const {
    if (!std::is_sorted(bounds.begin(), bounds.end(), std::less_equal<>{}))
        throw std::invalid_argument("unread::Index::health needs strictly ascending bounds");
    Health h;
    // Per bucket first (users in (bounds[i-1], bounds[i]]), summed at the end;
    // the extra slot holds the users above the last bound.
    std::vector<std::uint64_t> per_bucket(bounds.size() + 1, 0);
    bool have_oldest = false;
    for (const auto& shard : shards_) {
        std::shared_lock lock(shard->mu);
        h.users += shard->users.size();
        h.messages += shard->messages;
        for (const auto& [user, queue] : shard->users) {
            const std::size_t n = queue.size();
            const auto slot = std::lower_bound(bounds.begin(), bounds.end(), n) - bounds.begin();
            ++per_bucket[static_cast<std::size_t>(slot)];
            const std::int64_t oldest = queue.summary().oldest;
            if (!have_oldest || oldest < h.oldest_id ||
                (oldest == h.oldest_id && user < h.oldest_user)) {
                have_oldest = true;
                h.oldest_id = oldest;
                h.oldest_user = user;
            }
        }
        // The shard's ranking is sorted by count: only the users at or above
        // the threshold are visited.
        if (threshold > 0) {
            for (auto it = shard->ranking.rbegin();
                 it != shard->ranking.rend() && it->count >= threshold; ++it)
                h.at_least.push_back({std::string(it->user), it->count});
        }
    }
    h.buckets.resize(bounds.size());
    std::uint64_t running = 0;
    for (std::size_t i = 0; i < bounds.size(); ++i) h.buckets[i] = running += per_bucket[i];
    std::sort(h.at_least.begin(), h.at_least.end(), [](const UserCount& a, const UserCount& b) {
        return a.count > b.count || (a.count == b.count && a.user < b.user);
    });
    return h;
}

std::uint64_t Index::total() const noexcept {
    std::uint64_t n = 0;
    for (const auto& shard : shards_) {
        std::shared_lock lock(shard->mu);
        n += shard->messages;
    }
    return n;
}

std::uint64_t Index::users() const noexcept {
    std::uint64_t n = 0;
    for (const auto& shard : shards_) {
        std::shared_lock lock(shard->mu);
        n += shard->users.size();
    }
    return n;
}

std::size_t Index::memory_bytes() const noexcept {
    std::size_t n = sizeof(Index) + shards_.capacity() * sizeof(void*);
    for (const auto& shard : shards_) {
        std::shared_lock lock(shard->mu);
        n += sizeof(Shard) + shard->all_bytes();
    }
    return n;
}

namespace {

bool by_count_then_name(const UserCount& a, const UserCount& b) {
    return a.count > b.count || (a.count == b.count && a.user < b.user);
}

// Keeps the `limit` largest of `v`, sorted.
void keep_top(std::vector<UserCount>& v, std::size_t limit) {
    const std::size_t keep = std::min(limit, v.size());
    std::partial_sort(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(keep), v.end(),
                      by_count_then_name);
    v.resize(keep);
}

}  // namespace

template <class F>
void Index::for_each_match(std::string_view name, SenderScope scope, F&& f) const {
    std::vector<std::pair<const std::string*, std::size_t>> users;
    for (const auto& shard : shards_) {
        std::shared_lock lock(shard->mu);
        users.clear();
        std::size_t matched = 0;
        if (scope == SenderScope::jid) {
            const SenderEntry* sender = shard->view.find(name);
            if (sender == nullptr) continue;
            matched = 1;
            users.reserve(sender->users);
            for (const SenderLink* l = sender->head; l != nullptr; l = l->next)
                users.emplace_back(l->user, l->count);
        } else {
            const DomainEntry* domain = shard->view.find_domain(name);
            if (domain == nullptr) continue;
            matched = domain->senders;
            // Several senders of the domain may reach one user: add them up.
            std::unordered_map<const std::string*, std::size_t> sum;
            for (const SenderEntry* s = domain->head; s != nullptr; s = s->next_in_domain)
                for (const SenderLink* l = s->head; l != nullptr; l = l->next)
                    sum[l->user] += l->count;
            users.assign(sum.begin(), sum.end());
        }
        f(*shard, matched, users);
    }
}

SenderImpact Index::sender_impact(std::string_view name, SenderScope scope,
                                  std::size_t limit) const {
    SenderImpact out;
    std::set<std::string> senders;
    for_each_match(name, scope, [&](const Shard& shard, std::size_t, const auto& users) {
        out.users += users.size();
        for (const auto& [user, n] : users) out.messages += n;
        if (scope == SenderScope::domain) {
            for (const SenderEntry* s = shard.view.find_domain(name)->head; s != nullptr;
                 s = s->next_in_domain)
                senders.insert(*s->jid);
        } else {
            senders.insert(std::string(name));
        }
        if (limit == 0) return;
        // Names are copied only for the shard's own top `limit`.
        std::vector<std::pair<std::size_t, const std::string*>> ranked;
        ranked.reserve(users.size());
        for (const auto& [user, n] : users) ranked.emplace_back(n, user);
        const std::size_t keep = std::min(limit, ranked.size());
        std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(keep),
                          ranked.end(), [](const auto& a, const auto& b) {
                              return a.first > b.first ||
                                     (a.first == b.first && *a.second < *b.second);
                          });
        for (std::size_t i = 0; i < keep; ++i)
            out.top.push_back({*ranked[i].second, ranked[i].first});
    });
    out.senders = senders.size();
    keep_top(out.top, limit);
    return out;
}

std::vector<UserCount> Index::sender_users(std::string_view name, SenderScope scope) const {
    std::vector<UserCount> out;
    for_each_match(name, scope, [&](const Shard&, std::size_t, const auto& users) {
        for (const auto& [user, n] : users) out.push_back({*user, n});
    });
    std::sort(out.begin(), out.end(),
              [](const UserCount& a, const UserCount& b) { return a.user < b.user; });
    return out;
}

std::vector<SenderUserCount> Index::sender_view() const {
    std::vector<SenderUserCount> out;
    for (const auto& shard : shards_) {
        std::shared_lock lock(shard->mu);
        for (const auto& [sender, entry] : shard->view.senders())
            for (const SenderLink* l = entry.head; l != nullptr; l = l->next)
                out.push_back({sender, *l->user, l->count});
    }
    std::sort(out.begin(), out.end(), [](const SenderUserCount& a, const SenderUserCount& b) {
        return std::tie(a.sender, a.user) < std::tie(b.sender, b.user);
    });
    return out;
}

RetentionImpact Index::older_than(std::int64_t cutoff, std::size_t limit) const {
    RetentionImpact out;
    std::unordered_map<std::string, std::size_t, StringHash, std::equal_to<>> senders;
    for (const auto& shard : shards_) {
        std::shared_lock lock(shard->mu);
        // Counted by name while the lock keeps the names alive, merged after.
        std::unordered_map<std::string_view, std::size_t> here;
        for (const auto& [user, queue] : shard->users) {
            const std::size_t n = queue.count_before(cutoff);
            if (n == 0) continue;
            out.messages += n;
            ++out.users;
            if (limit > 0) queue.for_each_oldest(n, [&](const std::string& s) { ++here[s]; });
        }
        for (const auto& [s, n] : here) {
            auto it = senders.find(s);
            if (it == senders.end()) it = senders.emplace(std::string(s), 0).first;
            it->second += n;
        }
    }
    for (auto& [s, n] : senders) out.top_senders.push_back({s, n});
    const auto by_rank = [](const SenderCount& a, const SenderCount& b) {
        return a.count > b.count || (a.count == b.count && a.sender < b.sender);
    };
    const std::size_t keep = std::min(limit, out.top_senders.size());
    std::partial_sort(out.top_senders.begin(),
                      out.top_senders.begin() + static_cast<std::ptrdiff_t>(keep),
                      out.top_senders.end(), by_rank);
    out.top_senders.resize(keep);
    return out;
}

std::vector<UserCount> Index::users_older_than(std::int64_t cutoff) const {
    std::vector<UserCount> out;
    for (const auto& shard : shards_) {
        std::shared_lock lock(shard->mu);
        for (const auto& [user, queue] : shard->users)
            if (const std::size_t n = queue.count_before(cutoff); n > 0) out.push_back({user, n});
    }
    std::sort(out.begin(), out.end(),
              [](const UserCount& a, const UserCount& b) { return a.user < b.user; });
    return out;
}

std::vector<UserDiff> Index::diff(const Index& before, const Index& after) {
    if (before.shards_.size() != after.shards_.size())
        throw std::invalid_argument("unread::Index::diff needs indexes with equal shard counts");
    static const UserQueue empty;
    std::vector<UserDiff> out;
    const auto compare = [&](const std::string& user, const UserQueue& a, const UserQueue& b) {
        const auto [removed, added] = a.differences(b);
        if (removed + added > 0) out.push_back({user, a.size(), b.size(), added, removed});
    };
    for (std::size_t i = 0; i < before.shards_.size(); ++i) {
        const Shard& a = *before.shards_[i];
        const Shard& b = *after.shards_[i];
        // Same shard count and hash: a user lives in shard i of both.
        std::shared_lock lock_a(a.mu, std::defer_lock);
        std::shared_lock lock_b(b.mu, std::defer_lock);
        if (&a == &b) {
            lock_a.lock();
        } else {
            std::lock(lock_a, lock_b);
        }
        // Both queues are sorted by (id, key): one merge per user, no sets
        // (a resync compares a million messages).
        for (const auto& [user, queue] : a.users) {
            const auto it = b.users.find(user);
            compare(user, queue, it == b.users.end() ? empty : it->second);
        }
        for (const auto& [user, queue] : b.users)
            if (!a.users.contains(user)) compare(user, empty, queue);
    }
    std::sort(out.begin(), out.end(),
              [](const UserDiff& x, const UserDiff& y) { return x.user < y.user; });
    return out;
}

}  // namespace unread
