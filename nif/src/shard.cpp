#include "shard.hpp"

#include <algorithm>

#include "unread/text.hpp"

namespace unread {

namespace {

std::size_t string_heap_bytes(const std::string& s) noexcept {
    // libstdc++ keeps up to 15 characters inside the string object.
    return s.capacity() > 15 ? heap_bytes(s.capacity() + 1) : 0;
}

}  // namespace

std::size_t Shard::user_node_bytes(const std::string& user) noexcept {
    const std::size_t key_heap = user.capacity() > 15 ? heap_bytes(user.capacity() + 1) : 0;
    return heap_bytes(sizeof(Users::value_type) + 2 * sizeof(void*)) + key_heap;
}

std::size_t Shard::rank_node_bytes() noexcept {
    return heap_bytes(sizeof(Rank) + 4 * sizeof(void*));
}

std::size_t Shard::all_bytes() const noexcept {
    return bytes + ranking.size() * rank_node_bytes() + users.bucket_count() * sizeof(void*) +
           view_bytes + buckets_bytes(senders) + buckets_bytes(domains);
}

template <class Map>
std::size_t Shard::buckets_bytes(const Map& m) noexcept {
    // A map with one bucket uses the storage inside the map object itself.
    return m.bucket_count() > 1 ? heap_bytes(m.bucket_count() * sizeof(void*)) : 0;
}

std::string_view Shard::domain_of(std::string_view sender) noexcept {
    const auto at = sender.find('@');
    return at == std::string_view::npos ? sender : sender.substr(at + 1);
}

void Shard::note_sender(std::string_view sender, const std::string& user, std::ptrdiff_t delta) {
    if (delta == 0) return;
    // Nodes: the element plus the next pointer, and the cached hash where
    // the hash is not trivially cheap (strings; pointers are not cached).
    constexpr std::size_t sender_node = sizeof(Senders::value_type) + 2 * sizeof(void*);
    constexpr std::size_t pair_node =
        sizeof(std::pair<const std::string* const, std::size_t>) + sizeof(void*);
    constexpr std::size_t domain_sender_node = 2 * sizeof(void*);
    constexpr std::size_t domain_node = sizeof(Domains::value_type) + 2 * sizeof(void*);
    auto it = senders.find(sender);
    if (it == senders.end()) {
        if (delta < 0) return;  // never happens: every erased message was noted when inserted
        it = senders.try_emplace(std::string(sender)).first;
        view_bytes += heap_bytes(sender_node) + string_heap_bytes(it->first);
        auto [d, fresh] = domains.try_emplace(std::string(domain_of(sender)));
        if (fresh) view_bytes += heap_bytes(domain_node) + string_heap_bytes(d->first);
        const std::size_t set_before = buckets_bytes(d->second);
        d->second.insert(&it->first);
        view_bytes += heap_bytes(domain_sender_node) + buckets_bytes(d->second) - set_before;
    }
    SenderUsers& su = it->second;
    const std::size_t users_before = buckets_bytes(su.users);
    if (delta > 0) {
        auto [u, fresh] = su.users.try_emplace(&user, 0);
        if (fresh) view_bytes += heap_bytes(pair_node);
        u->second += static_cast<std::size_t>(delta);
        su.messages += static_cast<std::size_t>(delta);
    } else {
        const auto u = su.users.find(&user);
        if (u == su.users.end()) return;
        const std::size_t down = std::min(u->second, static_cast<std::size_t>(-delta));
        u->second -= down;
        su.messages -= down;
        if (u->second == 0) {
            su.users.erase(u);
            view_bytes -= heap_bytes(pair_node);
        }
    }
    view_bytes = view_bytes + buckets_bytes(su.users) - users_before;
    if (su.messages == 0) {
        view_bytes -=
            buckets_bytes(su.users) + heap_bytes(sender_node) + string_heap_bytes(it->first);
        const auto d = domains.find(domain_of(sender));
        const std::size_t set_before = buckets_bytes(d->second);
        d->second.erase(&it->first);
        view_bytes =
            view_bytes - heap_bytes(domain_sender_node) - set_before + buckets_bytes(d->second);
        if (d->second.empty()) {
            view_bytes -=
                buckets_bytes(d->second) + heap_bytes(domain_node) + string_heap_bytes(d->first);
            domains.erase(d);
        }
        senders.erase(it);
    }
}

void Shard::erase_user(Users::iterator it) {
    it->second.for_each_sender([&](const std::string& sender, std::size_t n) {
        note_sender(sender, it->first, -static_cast<std::ptrdiff_t>(n));
    });
    const std::size_t count = it->second.size();
    ranking.erase(Rank{count, it->first});
    messages -= count;
    bytes -= it->second.bytes() + user_node_bytes(it->first);
    users.erase(it);
}

}  // namespace unread
