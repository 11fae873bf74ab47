// Template members of Shard, kept apart so shard.hpp reads as an interface.
#pragma once

#include <mutex>
#include <utility>

namespace unread {

template <class F>
auto Shard::update(std::string_view user, F&& f) {
    std::unique_lock lock(mu);
    auto it = users.find(user);
    const bool existed = it != users.end();
    if (!existed) {
        it = users.try_emplace(std::string(user)).first;
        bytes += user_node_bytes(it->first);
    }
    UserQueue& queue = it->second;
    const std::size_t old_count = queue.size();
    const std::size_t old_bytes = queue.bytes();
    auto result = std::forward<F>(f)(queue, it->first);
    const std::size_t new_count = queue.size();
    bytes = bytes - old_bytes + queue.bytes();
    messages = messages - old_count + new_count;
    if (old_count != new_count) {
        if (old_count > 0) ranking.erase(Rank{old_count, it->first});
        if (new_count > 0) ranking.insert(Rank{new_count, it->first});
    }
    if (queue.empty()) {
        bytes -= user_node_bytes(it->first);
        users.erase(it);
    }
    return result;
}

}  // namespace unread
